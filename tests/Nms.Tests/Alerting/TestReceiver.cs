using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Nms.Tests.Alerting;

/// <summary>One request the receiver got: path, headers, the raw body and when it arrived.</summary>
public sealed record ReceivedRequest(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, DateTimeOffset At)
{
    public string Text => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// A real HTTP receiver (HttpListener on its own loopback port) standing in for a webhook, Slack or
/// Teams endpoint. Answers 200 unless told otherwise: a list of statuses to answer first, or
/// <see cref="NeverAnswer"/> (requests are held until dispose, as a dead receiver).
/// </summary>
public sealed class TestReceiver : IDisposable
{
    private readonly HttpListener listener;
    private readonly ConcurrentQueue<int> statuses = new();
    private readonly ConcurrentQueue<ReceivedRequest> received = new();
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    public TestReceiver()
    {
        // A port the kernel just handed out; a failed Start disposes the listener, so each attempt takes a new one.
        for (var attempt = 0; ; attempt++)
        {
            Port = FreePort();
            var candidate = new HttpListener();
            candidate.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try
            {
                candidate.Start();
                listener = candidate;
                break;
            }
            catch (HttpListenerException) when (attempt < 20)
            {
                candidate.Close();
            }
        }

        loop = Task.Run(AcceptAsync);
    }

    public int Port { get; }

    public string Url(string path) => $"http://127.0.0.1:{Port}/{path.TrimStart('/')}";

    public bool NeverAnswer { get; set; }

    /// <summary>Requests that were answered with a 2xx (the ones a sender may count as delivered).</summary>
    public IReadOnlyList<ReceivedRequest> Accepted => [.. accepted];

    /// <summary>Every request, answered or not.</summary>
    public IReadOnlyList<ReceivedRequest> All => [.. received];

    private readonly ConcurrentQueue<ReceivedRequest> accepted = new();

    public void FailNext(int status, int times)
    {
        for (var i = 0; i < times; i++)
        {
            statuses.Enqueue(status);
        }
    }

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (stop.IsCancellationRequested || !listener.IsListening)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        using var body = new MemoryStream();
        await context.Request.InputStream.CopyToAsync(body);
        var headers = context.Request.Headers.AllKeys.OfType<string>().ToDictionary(k => k, k => context.Request.Headers[k] ?? "", StringComparer.OrdinalIgnoreCase);
        var request = new ReceivedRequest(context.Request.Url!.AbsolutePath, headers, body.ToArray(), DateTimeOffset.UtcNow);
        received.Enqueue(request);
        if (NeverAnswer)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        var status = statuses.TryDequeue(out var planned) ? planned : 200;
        if (status is >= 200 and < 300)
        {
            accepted.Enqueue(request);
        }

        context.Response.StatusCode = status;
        context.Response.Close();
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Close();
        try
        {
            loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        stop.Dispose();
    }
}
