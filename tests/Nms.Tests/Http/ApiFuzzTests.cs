using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nms.Tests.Entities;

namespace Nms.Tests.Http;

/// <summary>
/// Hostile requests over every operation in /api/openapi.json, generated from a fixed seed against
/// the real local host, PostgreSQL and Azurite: wrong types and sizes, NUL and invalid UTF-8,
/// injection strings, bogus cursors, ids with leading zeros and dots, wrong content types, huge
/// bodies. No request may get a 5xx, and every error the app answers is problem+json.
/// </summary>
public sealed class ApiFuzzTests(ApiFuzzTests.FuzzApp fixture) : IClassFixture<ApiFuzzTests.FuzzApp>
{
    private const int Seed = 17;
    private const int Requests = 2_400;
    private const int Workers = 4;

    /// <summary>The entity app with discovery capped, so a fuzzed run sweeps a handful of addresses, not 65,536.</summary>
    public sealed class FuzzApp : IAsyncLifetime
    {
        private readonly Infrastructure.FakePlugins plugins = new();

        public Infrastructure.TestApp App { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            plugins.AddSilent("snmp", "ssh");
            App = await Infrastructure.TestApp.StartAsync(o =>
            {
                o.Settings["Nms:Plugins:Directory"] = plugins.Directory;
                o.Settings["Nms:Discovery:MaxAddressesPerRun"] = "8";
            });
        }

        public async Task DisposeAsync()
        {
            await App.DisposeAsync();
            plugins.Dispose();
        }
    }

    [Fact]
    public async Task Generated_hostile_requests_over_every_route_never_get_a_5xx_and_every_error_is_problem_json()
    {
        var client = fixture.App.Client;
        var document = JsonNode.Parse(await client.GetStringAsync("openapi.json"))!;
        await SeedResourcesAsync(client);
        var generator = new HostileRequests(document, new Random(Seed), fixture.App.AdminKey);
        var requests = Enumerable.Range(0, Requests).Select(_ => generator.Next()).ToList();
        Assert.Equal(generator.Operations.Count, requests.Select(r => r.Operation).Distinct().Count());

        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = fixture.App.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = Workers }, async (fuzz, ct) =>
        {
            using var request = fuzz.ToMessage();
            using var response = await http.SendAsync(request, ct);
            var body = await response.Content.ReadAsStringAsync(ct);
            statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
            if (Problem(fuzz, response, body) is { } problem)
            {
                failures.Enqueue($"{fuzz}\n  → {(int)response.StatusCode} {response.Content.Headers.ContentType}: {Truncate(body, 300)}\n  {problem}");
            }
        });

        Assert.True(failures.IsEmpty, $"{failures.Count} of {Requests} requests failed (statuses {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}):\n"
            + string.Join("\n", failures.Take(25)));
        Assert.True(statuses.Keys.Count(s => s >= 400) >= 5 && statuses.Keys.Any(s => s < 300), "the fuzz reached too little: " + string.Join(", ", statuses.Keys));
    }

    /// <summary>Null when the answer is acceptable.</summary>
    private static string? Problem(FuzzRequest request, HttpResponseMessage response, string body)
    {
        var status = (int)response.StatusCode;
        if (status == 400 && body.Length == 0 && response.Content.Headers.ContentType is null && request.Path.Split('?')[0].Contains("%00", StringComparison.Ordinal))
        {
            return null; // Kestrel refuses a NUL in the path before any app code runs.
        }

        if (status == 503 && request.Path.StartsWith("health", StringComparison.Ordinal) && body.Contains("\"unhealthy\"", StringComparison.Ordinal))
        {
            return null; // The health check's own answer when a dependency is slow (Azurite under the fuzz's load), not a failure.
        }

        if (status >= 500)
        {
            return "a server error";
        }

        if (status < 400)
        {
            return null;
        }

        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return "an error that is not problem+json";
        }

        try
        {
            using var json = JsonDocument.Parse(body);
            if (!json.RootElement.TryGetProperty("status", out var s) || s.GetInt32() != status || !json.RootElement.TryGetProperty("title", out _))
            {
                return "a problem without the right status and title";
            }
        }
        catch (JsonException)
        {
            return "problem+json that is not JSON";
        }

        EntityAssert.NoInternals(body);
        return null;
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    /// <summary>A few real resources, so some generated ids name something and reach deeper code.</summary>
    private static async Task SeedResourcesAsync(HttpClient client)
    {
        await client.SendJsonAsync(HttpMethod.Post, "credential_profiles", new { name = "fuzz-cred", type = "snmp_v2c", community = "public" });
        await client.SendJsonAsync(HttpMethod.Post, "devices", new { ip = "127.77.0.1", port = 161, plugin = "snmp" });
        await client.SendJsonAsync(HttpMethod.Post, "discovery_profiles", new { name = "fuzz-disc", target = "127.77.1.1-4", port = 161, plugin = "snmp" });
    }

    /// <summary>One generated request; printed in the failure message, so it can be replayed by hand.</summary>
    private sealed record FuzzRequest(string Operation, string Method, string Path, byte[]? Body, string? ContentType, string? ApiKey)
    {
        public HttpRequestMessage ToMessage()
        {
            var request = new HttpRequestMessage(new HttpMethod(Method), Path);
            if (Body is not null)
            {
                request.Content = new ByteArrayContent(Body);

                // As curl does for large bodies: the server refuses one over its limit from Content-Length alone and
                // closes the connection, and a client still writing the body then fails with a broken pipe instead of
                // reading the 413 (a race the machine's load decides). Waiting for 100-continue sends no body it refuses.
                request.Headers.ExpectContinue = Body.Length > 64 * 1024;
                if (ContentType is not null)
                {
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
                }
            }

            if (ApiKey is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
            }

            return request;
        }

        public override string ToString() =>
            $"{Method} {Path} [{ContentType ?? "no content type"}, {(ApiKey is null ? "anonymous" : "key")}] {(Body is null ? "" : Truncate(Encoding.UTF8.GetString(Body), 300))}";
    }

    /// <summary>Requests built from the OpenAPI document, each part chosen hostile with some probability.</summary>
    private sealed class HostileRequests
    {
        private static readonly string[] Ids =
        [
            "1", "2", "01", "001", "1.5", "1.", ".1", "-1", "0", "+1", "1e3", "0x1", " 1", "1 ", "%201", "%00", "1%00", "abc", "..", "%2e%2e", "1,2",
            "99999999999999999999", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "2147483648",
            "00000000-0000-0000-0000-000000000000", "3f2504e0-4f89-11d3-9a0c-0305e82c3301", "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}", "3F2504E04F8911D39A0C0305E82C3301",
            "%ff", "%c0%ae", "%e2%80%ae", "' OR '1'='1", "1;DROP TABLE devices", "<script>", new string('1', 400), "snmp", "metrics", "discovery",
        ];

        private static readonly string[] Strings =
        [
            "", " ", "a", "\0", "a\0b", "\u0001\u001f", "\uFEFF", "\u202E", "é", "😀", "\uD800", "' OR 1=1 --", "'; DROP TABLE devices; --", "\" OR \"\"=\"",
            "<script>alert(1)</script>", "../../../../etc/passwd", "%s%n%x", "${jndi:ldap://127.0.0.1:1/a}", "{{7*7}}", "$(id)", "`id`", "\\", "%", "_", "*", "null", "true",
            "0", "-1", "NaN", "Infinity", "1e309", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2026-02-30T25:61:61Z", "now", "-infinity", "infinity",
            "127.0.0.1", "0.0.0.0", "255.255.255.255", "::", "0x7f.0.0.1", "01.02.03.04", "[::1]", "127.0.0.1/33", "10.0.0.0/0", "::/0", "224.0.0.1",
            "http://127.0.0.1:1/hook", "https://127.0.0.1:1/hook?token=x", "ftp://127.0.0.1/x", "javascript:alert(1)", "a=b", "=", "a=", "site=ams1,x=y",
            "ZDE6MQ", "ZDE6LTE", "ZDE6OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "ZDE6", "!!!!", "====", "YQ", "eyJ0IjoiMjAyNiJ9", "snmp", "ssh", "admin", "reader", "operator",
            "active", "inactive", "firing", "critical", "raw", "rate", "avg", "5m", "1d", "0s", "-5m", "99999999h",
        ];

        private static readonly string[] ContentTypes =
        [
            "text/plain", "application/xml", "text/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1",
            "application/jsonp", "application/octet-stream", "*/*", "application/json;;", "",
        ];

        private readonly JsonNode document;
        private readonly Random random;
        private readonly string adminKey;

        public HostileRequests(JsonNode document, Random random, string adminKey)
        {
            this.document = document;
            this.random = random;
            this.adminKey = adminKey;
            Operations = document["paths"]!.AsObject()
                .SelectMany(path => path.Value!.AsObject().Select(method => (Path: path.Key, Method: method.Key.ToUpperInvariant(), Operation: method.Value!.AsObject())))
                .OrderBy(o => o.Path, StringComparer.Ordinal).ThenBy(o => o.Method, StringComparer.Ordinal)
                .ToList();
        }

        public List<(string Path, string Method, JsonObject Operation)> Operations { get; }

        private int next;

        public FuzzRequest Next()
        {
            // Every operation in turn first, then at random.
            var (path, method, operation) = next < Operations.Count ? Operations[next] : Operations[random.Next(Operations.Count)];
            next++;
            var url = FillPath(path).TrimStart('/') + Query(operation);
            var (body, contentType) = operation["requestBody"] is JsonObject requestBody ? Body(requestBody) : ExtraBody();
            var key = random.Next(20) switch
            {
                0 => null,
                1 => "nms_bogus_" + random.Next(),
                _ => adminKey,
            };
            return new FuzzRequest(method + " " + path, method, url, body, contentType, key);
        }

        private string FillPath(string template) => string.Join('/', template.Split('/').Select(segment =>
            segment.StartsWith('{') ? Pick(Ids) : segment));

        private string Query(JsonObject operation)
        {
            var parts = new List<string>();
            foreach (var parameter in operation["parameters"]!.AsArray().Select(p => p!.AsObject()).Where(p => (string?)p["in"] == "query"))
            {
                if (random.Next(3) == 0)
                {
                    continue;
                }

                var name = (string)parameter["name"]!;
                parts.Add($"{Uri.EscapeDataString(name)}={Encode(QueryValue(Schema(parameter["schema"])))}");
                if (random.Next(15) == 0)
                {
                    parts.Add($"{Uri.EscapeDataString(name)}={Encode(Pick(Strings))}");
                }
            }

            switch (random.Next(12))
            {
                case 0: parts.Add("unknown=" + Encode(Pick(Strings))); break;
                case 1: parts.Add("labels[" + Encode(Pick(Strings)) + "]=" + Encode(Pick(Strings))); break;
                case 2: parts.Add("labels=" + Encode(Pick(Strings))); break;
                case 3: parts.Add("%ff%fe=%c0"); break;
                case 4: parts.Add("cursor=" + Encode(Pick(Strings))); break;
            }

            return parts.Count == 0 ? "" : "?" + string.Join('&', parts);
        }

        private string Encode(string value) => random.Next(10) == 0 ? value.Replace("&", "%26", StringComparison.Ordinal).Replace("#", "%23", StringComparison.Ordinal) : Uri.EscapeDataString(value);

        private string QueryValue(JsonObject schema) => random.Next(3) == 0 ? Pick(Strings) : (string?)schema["type"] switch
        {
            "integer" => Pick(["0", "1", "-1", "01", "1.5", "2147483648", "99999999999999999999", "1e3", "", " 5", "500", "501", "0x10"]),
            "boolean" => Pick(["true", "false", "TRUE", "1", "yes", ""]),
            _ when schema["enum"] is JsonArray values => random.Next(2) == 0 ? (string)values[random.Next(values.Count)]! : Pick(Strings),
            _ when (string?)schema["format"] == "date-time" => Pick(["0001-01-01T00:00:00Z", "0001-01-01T00:30:00Z", "9999-12-31T23:59:59Z", "1970-01-01T00:00:00+14:00", "2026-12-01T00:00:00Z", "2026-12-01", "x"]),
            _ => Pick(Strings),
        };

        private (byte[]? Body, string? ContentType) Body(JsonObject requestBody)
        {
            var schema = Schema(requestBody["content"]?["application/json"]?["schema"]);
            var contentType = random.Next(8) == 0 ? Pick(ContentTypes) : random.Next(30) == 0 ? null : "application/json";
            var body = random.Next(25) switch
            {
                0 => [],
                1 => "null"u8.ToArray(),
                2 => Encoding.UTF8.GetBytes(new string('[', 5000) + new string(']', 5000)),
                3 => [0xff, 0xfe, (byte)'{', 0x80, (byte)'}'],
                4 => Encoding.UTF8.GetBytes("{\"name\":\"" + new string('x', 1_100_000) + "\"}"),
                5 => Encoding.UTF8.GetBytes("<device><ip>127.0.0.1</ip></device>"),
                6 => Encoding.UTF8.GetBytes("ip=127.0.0.1&port=161"),
                7 => Encoding.UTF8.GetBytes("{\"a\":1,\"a\":2}"),
                8 => Encoding.UTF8.GetBytes("{\"ip\":\"127.0.0.1\"" + new string(' ', 10) + ""),
                _ => Encoding.UTF8.GetBytes(Value(schema, 0).ToJsonString()),
            };
            return (body, contentType);
        }

        /// <summary>Now and then a body where none is expected.</summary>
        private (byte[]? Body, string? ContentType) ExtraBody() => random.Next(10) switch
        {
            0 => ("{\"x\":1}"u8.ToArray(), "application/json"),
            1 => ("hello"u8.ToArray(), "text/plain"),
            _ => (null, null),
        };

        private JsonNode Value(JsonObject schema, int depth)
        {
            if (random.Next(8) == 0 || depth > 4)
            {
                return Wrong();
            }

            if (schema["enum"] is JsonArray values && random.Next(3) > 0)
            {
                return JsonValue.Create((string)values[random.Next(values.Count)]!)!;
            }

            return (string?)schema["type"] switch
            {
                "object" => Object(schema, depth),
                "array" => new JsonArray(Enumerable.Range(0, Pick([0, 1, 2, 3, 200])).Select(_ => (JsonNode?)Value(Schema(schema["items"]), depth + 1)).ToArray()),
                "integer" => JsonValue.Create(Pick<long>([0, 1, 2, -1, 10, 60, 161, 65535, 65536, 86400, 2147483647, 2147483648, long.MaxValue, long.MinValue]))!,
                "number" => JsonValue.Create(Pick([0.0, -0.0, 1.5, 1e308, -1e308, double.Epsilon, 90.0, 100.0]))!,
                "boolean" => JsonValue.Create(random.Next(2) == 0)!,
                _ => JsonValue.Create(random.Next(12) == 0 ? new string(Pick(['x', '\0', 'é', '<']), Pick([256, 1025, 70_000])) : Pick(Strings))!,
            };
        }

        private JsonObject Object(JsonObject schema, int depth)
        {
            var result = new JsonObject();
            var required = schema["required"] is JsonArray r ? r.Select(x => (string)x!).ToHashSet() : [];
            foreach (var (name, property) in schema["properties"]?.AsObject() ?? [])
            {
                if (required.Contains(name) ? random.Next(10) > 0 : random.Next(2) == 0)
                {
                    result[name] = Value(Schema(property), depth + 1);
                }
            }

            if (random.Next(10) == 0)
            {
                result[Pick(["unknown", "id", "created_at", "secret", "__proto__", "Ip", "IP"])] = Wrong();
            }

            return result;
        }

        private JsonNode Wrong() => random.Next(7) switch
        {
            0 => JsonValue.Create(Pick(Strings))!,
            1 => JsonValue.Create(Pick<long>([0, -1, long.MaxValue]))!,
            2 => JsonValue.Create(1e308)!,
            3 => new JsonArray(JsonValue.Create(1), JsonValue.Create("a")),
            4 => new JsonObject { ["a"] = new JsonObject { ["b"] = JsonValue.Create("\0") } },
            5 => JsonValue.Create(true)!,
            _ => JsonNode.Parse("99999999999999999999999999999999")!,
        };

        /// <summary>A schema with its $ref resolved.</summary>
        private JsonObject Schema(JsonNode? node)
        {
            var schema = node?.AsObject() ?? [];
            if ((string?)schema["$ref"] is { } reference)
            {
                return document["components"]!["schemas"]![reference.Split('/')[^1]]!.AsObject();
            }

            return schema["oneOf"] is JsonArray one ? Schema(one[random.Next(one.Count)]) : schema;
        }

        private T Pick<T>(IReadOnlyList<T> values) => values[random.Next(values.Count)];
    }
}
