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
        services.AddScaiKeyDatabase(configuration);
        services.AddSingleton(sp => KeyRing.FromConfiguration(
            configuration, DatabaseSetup.DataDirectory(configuration), sp.GetRequiredService<ILoggerFactory>().CreateLogger<KeyRing>()));
        services.AddSingleton(new PasswordHasher(
            configuration.GetValue("ScaiKey:PasswordHashing:Iterations", PasswordHasher.DefaultIterations),
            configuration.GetValue("ScaiKey:PasswordHashing:MemoryKiB", PasswordHasher.DefaultMemoryBytes / 1024) * 1024));
        HashingGate.AddTo(services, configuration);
        return services;
    }
}
