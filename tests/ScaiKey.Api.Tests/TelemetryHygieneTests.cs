using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;

namespace ScaiKey.Api.Tests;

/// <summary>Traces (every span of the process, as any exporter would see it) and metric tags never carry a secret or an email.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryHygieneTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    [Fact]
    public async Task No_password_token_client_secret_or_email_reaches_a_span_or_a_metric_tag()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        // As deployed with an OTLP collector (unreachable here: export fails quietly) and the scrape endpoint on.
        var host = app.StartHost(b =>
        {
            MetricsApp.Configure(b);
            b.UseSetting("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9");
        });
        var clientToken = await ScaiKeyApp.GetTokenAsync(host, ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);
        var client = await PasswordGrantApp.CreateAsync(app);
        var email = $"hygiene{Guid.NewGuid():N}@example.com";
        await client.CreateUserAsync(app, email);
        using var http = host.CreateClient();
        var tokens = await client.SignInAsync(http, email);
        var refreshed = await (await client.RefreshAsync(http, tokens["refresh_token"]!.GetValue<string>())).ReadJsonAsync(200);
        using (var wrong = client.Post("/connect/token", new() { ["grant_type"] = "password", ["username"] = email, ["password"] = "Wrong-Secret-Pass-9!" }))
        {
            await (await http.SendAsync(wrong)).ShouldBeAsync(400);
        }

        // EF Core remembers for a second that nobody listened to its command events (its logging cache), and another
        // test's host may have been the last to ask; a few more reads within a bounded wait let the database spans show.
        var until = DateTime.UtcNow.AddSeconds(10);
        while (!spans.Any(s => s.Source.Name.Contains("EntityFrameworkCore", StringComparison.Ordinal)) && DateTime.UtcNow < until)
        {
            using var read = new HttpRequestMessage(HttpMethod.Get, "/api/v1/admin/tenants");
            read.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", clientToken);
            await (await http.SendAsync(read)).ShouldBeAsync(200);
            await Task.Delay(200);
        }

        var scrape = await MetricsScrape.ReadAsync(host);
        await app.StopHostAsync(host);

        var secrets = new[]
        {
            PasswordGrantApp.Password, "Wrong-Secret-Pass-9!", client.Secret, ScaiKeyApp.AdminClientSecret, email, clientToken,
            tokens["access_token"]!.GetValue<string>(), tokens["refresh_token"]!.GetValue<string>(), refreshed["access_token"]!.GetValue<string>(),
        };
        var seen = spans.ToList();
        Assert.Contains(seen, s => s.Source.Name == "ScaiKey" && s.OperationName == "password_hash" && s.ParentSpanId != default);
        Assert.Contains(seen, s => s.Source.Name.Contains("EntityFrameworkCore", StringComparison.Ordinal)); // the database spans are there
        foreach (var span in seen)
        {
            var text = string.Join("\n", new[] { span.DisplayName, span.StatusDescription ?? "" }
                .Concat(span.TagObjects.Select(t => $"{t.Key}={t.Value}"))
                .Concat(span.Events.SelectMany(e => e.Tags.Select(t => $"{e.Name}:{t.Key}={t.Value}")))
                .Concat(span.Baggage.Select(b => $"{b.Key}={b.Value}")));
            foreach (var secret in secrets)
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{span.Source.Name}/{span.OperationName} carries a secret:\n{text}");
            }
        }

        Assert.Contains("scaikey_signins_total", scrape.Text, StringComparison.Ordinal);
        foreach (var secret in secrets.Append("example.com"))
        {
            Assert.DoesNotContain(secret, scrape.Text, StringComparison.Ordinal);
        }
    }
}
