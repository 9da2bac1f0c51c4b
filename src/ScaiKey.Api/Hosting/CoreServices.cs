using Microsoft.Extensions.Options;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.Hosting;

internal static class CoreServices
{
    /// <summary>What both the web service and the command line need: the database, the key ring and password hashing.</summary>
    public static IServiceCollection AddScaiKeyCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddHttpContextAccessor();
        services.AddMemoryCache();
        services.AddSingleton(TimeProvider.System);
        services.AddScaiKeyHostingOptions();
        services.AddScaiKeyDatabase(configuration);
        services.AddSingleton(sp => KeyRing.FromOptions(
            sp.GetRequiredService<IOptions<StorageOptions>>().Value, sp.GetRequiredService<ILoggerFactory>().CreateLogger<KeyRing>()));
        HashingGate.AddTo(services, configuration);
        services.AddSingleton(sp =>
        {
            var hashing = sp.GetRequiredService<IOptions<HashingGateOptions>>().Value;
            return new PasswordHasher(hashing.Iterations, hashing.MemoryKiB * 1024);
        });
        return services;
    }
}
