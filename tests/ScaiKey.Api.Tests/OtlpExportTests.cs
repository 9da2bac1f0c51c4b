using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace ScaiKey.Api.Tests;

/// <summary>
/// OTLP export as docs/operations.md tells an operator to switch it on: the standard OTEL_* settings pointed at a
/// collector (here a recording HTTP server on loopback), nothing else.
/// </summary>
[Collection(TelemetryCollection.Name)]
public sealed class OtlpExportTests(ScaiKeyApp app) : IClassFixture<ScaiKeyApp>
{
    // Bounded waits for an exporter's next round, not a speed claim: the rounds below come every fraction of a second.
    private static readonly TimeSpan ExportWait = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The environment variables an operator sets, given to one host's configuration under the same names (which is
    /// where the service and the OpenTelemetry SDK read them), so no other host of the test process exports. Short
    /// rounds for the batch span processor and the metric reader, so a test waits a moment, not the 5 s and 60 s defaults.
    /// </summary>
    private static void Otlp(IWebHostBuilder builder, string endpoint)
    {
        builder.UseSetting("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint);
        builder.UseSetting("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
        builder.UseSetting("OTEL_BSP_SCHEDULE_DELAY", "200");
        builder.UseSetting("OTEL_METRIC_EXPORT_INTERVAL", "500");
    }

    [Fact]
    public async Task Traces_and_metrics_are_posted_to_the_configured_collector_over_http_protobuf()
    {
        await using var collector = new RecordingHttpServer();
        var host = app.StartHost(b => Otlp(b, collector.BaseUrl));
        try
        {
            // A request (its span, the request duration) and a token (scaikey.tokens.issued).
            await ScaiKeyApp.GetTokenAsync(host, ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret);

            var traces = await collector.WaitForAsync("POST /v1/traces application/x-protobuf", ExportWait);
            var metrics = await collector.WaitForAsync("POST /v1/metrics application/x-protobuf", ExportWait);
            var received = "received:\n" + string.Join("\n", collector.Requests);
            Assert.True(traces, received);
            Assert.True(metrics, received);
        }
        finally
        {
            await app.StopHostAsync(host);
        }
    }

    [Fact]
    public async Task A_call_to_an_identity_provider_is_a_client_span_of_the_request_that_made_it()
    {
        await using var collector = new RecordingHttpServer();
        await using var provider = new RecordingHttpServer();
        provider.Respond = path => path switch
        {
            "/.well-known/openid-configuration" => (200, "application/json", new JsonObject
            {
                ["issuer"] = provider.BaseUrl, ["authorization_endpoint"] = provider.BaseUrl + "/authorize",
                ["token_endpoint"] = provider.BaseUrl + "/token", ["jwks_uri"] = provider.BaseUrl + "/jwks",
            }.ToJsonString()),
            "/jwks" => (200, "application/json", """{"keys":[]}"""),
            _ => (404, "text/plain", ""),
        };

        // The spans the tracer provider records, i.e. what the OTLP exporter next to this processor is handed.
        var spans = new ConcurrentQueue<Activity>();
        var host = app.StartHost(b =>
        {
            Otlp(b, collector.BaseUrl);
            b.UseSetting("ScaiKey:Federation:AllowHttpProviders", "true");
            b.ConfigureTestServices(s => s.ConfigureOpenTelemetryTracerProvider(t => t.AddProcessor(new SpanRecorder(spans))));
        });
        try
        {
            using var admin = host.CreateClient();
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer",
                await ScaiKeyApp.GetTokenAsync(host, ScaiKeyApp.AdminClientId, ScaiKeyApp.AdminClientSecret));
            var tenantId = await app.CreateTenantAsync();
            var slug = (await (await admin.GetAsync($"/api/v1/admin/tenants/{tenantId}")).ReadJsonAsync(200))["data"]!["slug"]!.GetValue<string>();
            var providerId = (await (await admin.PostAsJsonAsync($"/api/v1/tenants/{tenantId}/identity-providers", new JsonObject
            {
                ["name"] = "Traced upstream", ["type"] = "OIDC", ["config"] = new JsonObject { ["issuer"] = provider.BaseUrl, ["client_id"] = "traced" },
            })).ReadJsonAsync(201))["data"]!["id"]!.GetValue<string>();

            // The start route reads the provider's discovery document, then sends the browser to its authorization endpoint.
            using var browser = host.CreateClient(new() { AllowAutoRedirect = false });
            var start = await browser.GetAsync($"/t/{slug}/federation/{providerId}/oidc/start");
            await start.ShouldBeAsync(303);
            Assert.StartsWith(provider.BaseUrl + "/authorize?", start.Headers.Location!.AbsoluteUri, StringComparison.Ordinal);
        }
        finally
        {
            await app.StopHostAsync(host); // ends every span and flushes the processors
        }

        var seen = spans.ToList();
        var described = string.Join("\n", seen.Select(a => $"{a.Kind} {a.Source.Name} {a.DisplayName} {a.GetTagItem("url.full")}"));
        var discovery = seen.SingleOrDefault(a => a.Kind == ActivityKind.Client
            && a.GetTagItem("url.full") is string url && url == provider.BaseUrl + "/.well-known/openid-configuration");
        Assert.True(discovery is not null, "no client span for the discovery request among:\n" + described);
        Assert.Equal("GET", discovery.GetTagItem("http.request.method"));
        Assert.Equal(200, Convert.ToInt32(discovery.GetTagItem("http.response.status_code"), System.Globalization.CultureInfo.InvariantCulture));
        var request = seen.Single(a => a.Kind == ActivityKind.Server && a.GetTagItem("url.path") is string path && path.EndsWith("/oidc/start", StringComparison.Ordinal));
        Assert.Equal(request.TraceId, discovery.TraceId);
    }

    private sealed class SpanRecorder(ConcurrentQueue<Activity> spans) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data) => spans.Enqueue(data);
    }
}
