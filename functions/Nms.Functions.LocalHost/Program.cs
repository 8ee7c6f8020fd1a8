using Nms.Functions.LocalHost;

// The local stand-in for `func start`: same function classes, same DI, same host.json.
var options = new LocalHostOptions
{
    Urls = Environment.GetEnvironmentVariable("NMS_LOCALHOST_URLS") ?? "http://127.0.0.1:7071",
};
if (Environment.GetEnvironmentVariable("NMS_HOST_JSON") is { Length: > 0 } hostJson)
{
    options.HostJsonPath = hostJson;
}

var app = LocalFunctionsHost.Build(options, args);
await app.RunAsync();
