using Microsoft.AspNetCore.Hosting;

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
}
