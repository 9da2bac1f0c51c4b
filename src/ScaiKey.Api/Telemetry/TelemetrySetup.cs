using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ScaiKey.Api.Telemetry;

/// <summary>
/// Traces, metrics and logs through OpenTelemetry. ScaiKey's instruments (<see cref="ScaiKeyMetrics"/>) always
/// exist; what listens to them is built only when something will read it: the Prometheus endpoint when
/// ScaiKey:Metrics:Enabled, OTLP export when the standard OTEL_EXPORTER_OTLP_ENDPOINT (or a signal's own
/// endpoint) is set. Neither set, nothing is collected and the hot paths pay a flag check per instrument.
/// </summary>
internal static class TelemetrySetup
{
    private const string OtlpEndpoint = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static IServiceCollection AddScaiKeyTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        MetricsOptions.AddTo(services, configuration);
        services.AddSingleton<OutboxBacklog>();
        services.AddSingleton<ScaiKeyMetrics>();
        services.AddSingleton<IStartupFilter, MetricsEndpoint.ForwardedMarker>();

        // Every look-up of the shared cache is counted (scaikey.cache.requests), whoever makes it.
        services.AddMemoryCache();
        services.Replace(ServiceDescriptor.Singleton<IMemoryCache>(sp => new MeteredMemoryCache(
            new MemoryCache(sp.GetRequiredService<IOptions<MemoryCacheOptions>>(), sp.GetRequiredService<ILoggerFactory>()),
            sp.GetRequiredService<ScaiKeyMetrics>())));
        ConfigureJsonLogs(services, configuration);

        var prometheus = configuration.GetSection(MetricsOptions.Section).GetValue<bool>(nameof(MetricsOptions.Enabled));
        var otlpTraces = OtlpSet(configuration, "TRACES");
        var otlpMetrics = OtlpSet(configuration, "METRICS");
        var otlpLogs = OtlpSet(configuration, "LOGS");
        if (!prometheus && !otlpTraces && !otlpMetrics && !otlpLogs)
        {
            return services;
        }

        var telemetry = services.AddOpenTelemetry().ConfigureResource(resource =>
        {
            // OTEL_SERVICE_NAME, when given, names the service (the default resource reads it).
            if (string.IsNullOrEmpty(configuration["OTEL_SERVICE_NAME"]))
            {
                resource.AddService("scaikey");
            }
        });
        if (prometheus || otlpMetrics)
        {
            services.AddHostedService<OutboxBacklog.Registration>();
            telemetry.WithMetrics(metrics =>
            {
                // ASP.NET Core's own meters (http.server.request.duration and the like), HttpClient's, Npgsql's pool.
                metrics.AddMeter(ScaiKeyMetrics.MeterName).AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddMeter("Npgsql");
                if (prometheus)
                {
                    metrics.AddPrometheusExporter();
                }

                if (otlpMetrics)
                {
                    metrics.AddOtlpExporter();
                }
            });
        }

        if (otlpTraces)
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(ScaiKeyMetrics.MeterName)
                .AddAspNetCoreInstrumentation(o => o.Filter = http => !http.Request.Path.StartsWithSegments(MetricsEndpoint.Path))
                .AddHttpClientInstrumentation()
                // One instrumentation for both databases (SQLite and PostgreSQL): statements, never parameter values.
                .AddEntityFrameworkCoreInstrumentation()
                .AddOtlpExporter());
        }

        if (otlpLogs)
        {
            // The same log lines as the console (the same filters keep tokens out), with their scopes (RequestId).
            telemetry.WithLogging(logging => logging.AddOtlpExporter(), options => options.IncludeScopes = true);
        }

        return services;
    }

    private static bool OtlpSet(IConfiguration configuration, string signal) =>
        !string.IsNullOrWhiteSpace(configuration[OtlpEndpoint]) || !string.IsNullOrWhiteSpace(configuration[$"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"]);

    /// <summary>
    /// With Logging:Console:FormatterName=json, each line carries its scopes (trace and span id, the request id) and a
    /// UTC timestamp, unless Logging:Console:FormatterOptions says otherwise.
    /// </summary>
    private static void ConfigureJsonLogs(IServiceCollection services, IConfiguration configuration)
    {
        var given = configuration.GetSection("Logging:Console:FormatterOptions");
        services.Configure<LoggerFactoryOptions>(o => o.ActivityTrackingOptions |= ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        services.Configure<JsonConsoleFormatterOptions>(o =>
        {
            if (given[nameof(o.IncludeScopes)] is null)
            {
                o.IncludeScopes = true;
            }

            if (given[nameof(o.TimestampFormat)] is null)
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            }

            if (given[nameof(o.UseUtcTimestamp)] is null)
            {
                o.UseUtcTimestamp = true;
            }
        });
    }
}
