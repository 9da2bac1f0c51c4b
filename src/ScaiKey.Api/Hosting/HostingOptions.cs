using Microsoft.Extensions.Options;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.Hosting;

/// <summary>ScaiKey:Database: which database the service keeps everything in (the connection is ConnectionStrings:Default).</summary>
internal sealed class DatabaseOptions
{
    public const string Section = "ScaiKey:Database";

    /// <summary><c>Sqlite</c> (default) or <c>Postgres</c> (also <c>PostgreSQL</c>), any case.</summary>
    public string Provider { get; set; } = nameof(DatabaseProvider.Sqlite);

    /// <summary>Apply pending migrations at start.</summary>
    public bool AutoMigrate { get; set; } = true;

    /// <summary>The provider named by <see cref="Provider"/>; null when it names none (the validator refuses that).</summary>
    public DatabaseProvider? ProviderKind => Provider?.Trim().ToLowerInvariant() switch
    {
        null or "" or "sqlite" => DatabaseProvider.Sqlite,
        "postgres" or "postgresql" => DatabaseProvider.Postgres,
        _ => null,
    };
}

internal sealed class DatabaseOptionsValidator(IConfiguration configuration) : IValidateOptions<DatabaseOptions>
{
    public ValidateOptionsResult Validate(string? name, DatabaseOptions options) => options.ProviderKind switch
    {
        null => ValidateOptionsResult.Fail($"{DatabaseOptions.Section}:Provider must be Sqlite or Postgres, not '{options.Provider}'."),
        DatabaseProvider.Postgres when string.IsNullOrWhiteSpace(configuration.GetConnectionString("Default")) =>
            ValidateOptionsResult.Fail($"ConnectionStrings:Default is required when {DatabaseOptions.Section}:Provider is Postgres."),
        _ => ValidateOptionsResult.Success,
    };
}

/// <summary>
/// Top-level ScaiKey settings of the host itself: where local files live and the key-encryption key. The section is
/// the whole of ScaiKey; only these two keys are read from it here.
/// </summary>
internal sealed class StorageOptions
{
    public const string Section = "ScaiKey";

    /// <summary>Where the SQLite file (without a connection string) and a generated key-encryption key live; default ./data.</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Base64 of 32 bytes; without it a key file under <see cref="DataDirectory"/> is used or created.</summary>
    public string? KeyEncryptionKey { get; set; }

    public string FullDataDirectory =>
        Path.GetFullPath(string.IsNullOrWhiteSpace(DataDirectory) ? Path.Combine(Directory.GetCurrentDirectory(), "data") : DataDirectory);
}

internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.KeyEncryptionKey) && KeyRing.ParseKey(options.KeyEncryptionKey) is null)
        {
            // Never echo the value: it is the key that seals every other secret.
            return ValidateOptionsResult.Fail($"{Section("KeyEncryptionKey")} must be 32 bytes, base64-encoded (e.g. the output of `openssl rand -base64 32`).");
        }

        if (options.DataDirectory is { } directory && directory.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            return ValidateOptionsResult.Fail($"{Section("DataDirectory")} is not a valid folder path: '{directory}'.");
        }

        return ValidateOptionsResult.Success;
    }

    private static string Section(string key) => $"{StorageOptions.Section}:{key}";
}

internal static class HostingOptionsSetup
{
    public static IServiceCollection AddScaiKeyHostingOptions(this IServiceCollection services)
    {
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DatabaseOptions>, DatabaseOptionsValidator>();
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        return services;
    }
}
