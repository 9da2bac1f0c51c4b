using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>
/// A plain HTTP server on a loopback port that records every request it gets and answers from <see cref="Respond"/>
/// (200 with an empty body by default): an OTLP collector or an identity provider's discovery as far as the service's
/// outgoing calls go. HttpListener, not a second web host, so nothing of ASP.NET Core's hosting runs in the test.
/// </summary>
public sealed class RecordingHttpServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public RecordingHttpServer()
    {
        // Take a free port, then listen on it (HttpListener cannot be asked for port 0).
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        BaseUrl = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(BaseUrl + "/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string BaseUrl { get; }

    /// <summary>"METHOD /path content-type" of every request so far, in arrival order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>The answer to a path: status, content type and body.</summary>
    public Func<string, (int Status, string ContentType, string Body)> Respond { get; set; } = _ => (200, "application/x-protobuf", "");

    /// <summary>Waits (bounded) until a request line starting with <paramref name="prefix"/> arrived; false if none did.</summary>
    public async Task<bool> WaitForAsync(string prefix, TimeSpan limit)
    {
        var until = DateTime.UtcNow + limit;
        while (!Requests.Any(r => r.StartsWith(prefix, StringComparison.Ordinal)))
        {
            if (DateTime.UtcNow >= until)
            {
                return false;
            }

            await Task.Delay(100);
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }

            try
            {
                await AnswerAsync(context);
            }
            catch (Exception e) when (e is HttpListenerException or IOException)
            {
                // The caller went away (an exporter shutting down): the next request is served as usual.
            }
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        using var response = context.Response;
        var request = context.Request;
        await request.InputStream.CopyToAsync(Stream.Null);
        Requests.Enqueue($"{request.HttpMethod} {request.Url!.AbsolutePath} {request.ContentType}");
        var (status, contentType, body) = Respond(request.Url.AbsolutePath);
        var bytes = System.Text.Encoding.UTF8.GetBytes(body);
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
    }
}
