using System.Net;
using Microsoft.Extensions.Options;

namespace ScaiKey.Api.Telemetry;

/// <summary>
/// ScaiKey:Metrics: the Prometheus scrape endpoint <c>/metrics</c>. Off by default; when on, it answers only
/// requests whose client address (the connection's, or the one a trusted proxy named: ScaiKey:TrustedProxies) is in
/// <see cref="AllowedAddresses"/>, loopback by default, and 404 to everyone else, as if it did not exist.
/// </summary>
internal sealed class MetricsOptions
{
    public const string Section = "ScaiKey:Metrics";

    public bool Enabled { get; set; }

    /// <summary>Addresses and CIDR networks, as a list (<c>__0</c>, <c>__1</c>) or one comma-separated value.</summary>
    public string? AllowedAddresses { get; set; }

    /// <summary><see cref="AllowedAddresses"/> read; set by the options' configuration, checked at start.</summary>
    public IReadOnlyList<System.Net.IPNetwork> Networks { get; private set; } = Loopback;

    /// <summary>The entries that are neither an address nor a network (the start stops on any).</summary>
    public IReadOnlyList<string> Invalid { get; private set; } = [];

    private static readonly System.Net.IPNetwork[] Loopback = [new(IPAddress.Loopback, 8), new(IPAddress.IPv6Loopback, 128)];

    /// <summary>The same test as for trusted proxies (<see cref="Http.ProxyOptions.Contains"/>).</summary>
    public bool Allows(IPAddress? address) => Http.ProxyOptions.Contains(Networks, address);

    /// <summary>Binds ScaiKey:Metrics; a wrong value stops the start with one line naming the key.</summary>
    public static void AddTo(IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        services.AddOptions<MetricsOptions>()
            .Bind(section)
            .PostConfigure(o => o.Read(section.GetSection(nameof(AllowedAddresses))))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<MetricsOptions>, Validation>();
    }

    private void Read(IConfigurationSection allowed)
    {
        // One value ("127.0.0.1,10.0.0.0/8") or a list; nothing given: loopback only.
        var entries = allowed.Value is { } single
            ? single.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : allowed.GetChildren().Select(c => c.Value?.Trim() ?? string.Empty).Where(v => v.Length > 0).ToArray();
        if (entries.Length == 0)
        {
            return;
        }

        var networks = new List<System.Net.IPNetwork>();
        var invalid = new List<string>();
        foreach (var entry in entries)
        {
            // Read as ScaiKey:TrustedProxies entries are ("10.0.0.1/8" refused as a likely typo).
            if (Http.ProxyOptions.Parse(entry) is { } network)
            {
                networks.Add(network);
            }
            else
            {
                invalid.Add(entry);
            }
        }

        Networks = networks;
        Invalid = invalid;
    }

    private sealed class Validation : IValidateOptions<MetricsOptions>
    {
        public ValidateOptionsResult Validate(string? name, MetricsOptions options) =>
            options.Invalid.Count == 0
                ? ValidateOptionsResult.Success
                : ValidateOptionsResult.Fail($"{Section}:{nameof(AllowedAddresses)}: '{options.Invalid[0]}' is not an IP address or a CIDR network " +
                    "(e.g. 127.0.0.1, 10.0.0.0/8, ::1).");
    }
}
