using System.Globalization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Exporter;
using ScaiKey.Api.Telemetry;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>
/// A host with the Prometheus endpoint on, as an operator would switch it on, except that its answers and the
/// outbox gauges are never served from their caches (a test reads right after acting), and the client address
/// comes from <see cref="ClientAddress"/>.
/// </summary>
public class MetricsApp : ScaiKeyApp
{
    protected override void ConfigureHost(IWebHostBuilder builder) => Configure(builder);

    public static void Configure(IWebHostBuilder builder)
    {
        builder.UseSetting("ScaiKey:Metrics:Enabled", "true");
        ClientAddress.Use(builder);
        builder.ConfigureTestServices(services =>
        {
            services.Configure<PrometheusAspNetCoreOptions>(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
            services.AddSingleton(sp => new OutboxBacklog(sp.GetRequiredService<IServiceScopeFactory>(), TimeProvider.System,
                sp.GetRequiredService<ILogger<OutboxBacklog>>()) { MaxAge = TimeSpan.Zero });
        });
    }
}

/// <summary>One scrape of /metrics, in Prometheus's text format, and the sums of its series.</summary>
public sealed class MetricsScrape(string text)
{
    public string Text => text;

    /// <summary>GET /metrics as a client at <paramref name="address"/>; asserts 200.</summary>
    public static async Task<MetricsScrape> ReadAsync(ScaiKeyHost host, string address = "127.0.0.1")
    {
        using var client = host.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.Add(ClientAddress.Header, address);
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == 200, $"GET /metrics: {(int)response.StatusCode}\n{body}");
        return new MetricsScrape(body);
    }

    /// <summary>The sum of the series named <paramref name="name"/> that carry every one of <paramref name="labels"/> (0 when none).</summary>
    public double Sum(string name, params (string Label, string Value)[] labels)
    {
        var sum = 0.0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith('#') || !line.StartsWith(name, StringComparison.Ordinal) || line.Length <= name.Length
                || line[name.Length] is not ('{' or ' '))
            {
                continue;
            }

            var valueStart = line.LastIndexOf(' ');
            var series = line[..valueStart];
            if (labels.All(l => series.Contains($"{l.Label}=\"{l.Value}\"", StringComparison.Ordinal)))
            {
                sum += double.Parse(line[(valueStart + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    /// <summary>Whether any series is named <paramref name="name"/>.</summary>
    public bool Has(string name) => text.Split('\n').Any(l => l.StartsWith(name + "{", StringComparison.Ordinal) || l.StartsWith(name + " ", StringComparison.Ordinal));
}
