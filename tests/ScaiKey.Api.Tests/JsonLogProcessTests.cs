using System.Text.Json;
using System.Text.RegularExpressions;

namespace ScaiKey.Api.Tests;

/// <summary>
/// `Logging:Console:FormatterName=json` on the real process (docs/operations.md): every line is one JSON object, a
/// request's lines carry its trace id and the request id the response gave back, and a password sent to the
/// token endpoint appears in no line.
/// </summary>
public sealed partial class JsonLogProcessTests
{
    [Fact]
    public async Task Json_log_lines_carry_the_trace_id_and_the_request_id_and_never_the_password()
    {
        const string password = "Json-Log-Secret-7731!";
        var requestId = "json-log-" + Guid.NewGuid().ToString("N")[..12];
        using var service = ServiceProcess.Start(ServiceProcess.NewFolder(), new Dictionary<string, string>
        {
            ["Logging:Console:FormatterName"] = "json",
            ["Logging:LogLevel:Default"] = "Information",
        }, ["--urls", "http://127.0.0.1:0"]);

        var listening = await service.WaitForLineAsync(l => l.Contains("Now listening on", StringComparison.Ordinal), TimeSpan.FromSeconds(90));
        var address = ListeningAddress().Match(listening).Groups[1].Value;
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "password", ["username"] = "nobody@example.com", ["password"] = password, ["client_id"] = "no-such-client",
            }),
        };
        request.Headers.Add("X-Request-ID", requestId);
        using var response = await http.SendAsync(request);
        Assert.Equal(requestId, response.Headers.GetValues("X-Request-ID").Single());

        var line = await service.WaitForLineAsync(l => l.Contains($"\"RequestId\":\"{requestId}\"", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        using (var json = JsonDocument.Parse(line))
        {
            var scopes = json.RootElement.GetProperty("Scopes").EnumerateArray().Where(s => s.ValueKind == JsonValueKind.Object).ToList();
            Assert.Contains(scopes, s => s.TryGetProperty("RequestId", out var id) && id.GetString() == requestId);
            Assert.Contains(scopes, s => s.TryGetProperty("TraceId", out var trace) && TraceId().IsMatch(trace.GetString() ?? ""));
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", json.RootElement.GetProperty("Timestamp").GetString());
        }

        // Every line the process wrote (the bootstrap credentials aside, which go out once as plain text) is JSON.
        await Task.Delay(500);
        foreach (var written in service.Lines.Where(l => l.StartsWith('{')))
        {
            using var _ = JsonDocument.Parse(written);
        }

        Assert.DoesNotContain(service.Lines, l => l.Contains(password, StringComparison.Ordinal));
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningAddress();

    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex TraceId();
}
