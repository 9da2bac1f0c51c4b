using System.Reflection;
using Microsoft.Extensions.Options;

namespace ScaiKey.Api.Hosting;

/// <summary>Something the operator must fix before the service can start; its message is the one line printed.</summary>
internal sealed class StartupException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Turns a start-up failure the operator can fix (a setting, the database, the key file) into one line on stderr and
/// exit code 1, instead of an unhandled exception's stack trace and exit code 134.
/// </summary>
internal static class StartupFailure
{
    /// <summary>
    /// Validates every option registered with ValidateOnStart (so a wrong value stops the start before the database is
    /// touched), then prepares the database and opens the key ring. False, with the line printed, when the process
    /// must stop. Hosted by something else (the tests' WebApplicationFactory), the exception is thrown on so the host
    /// sees it: writing to the host's stderr and returning would leave it waiting for a start that never comes.
    /// </summary>
    public static async Task<bool> PrepareAsync(WebApplication app)
    {
        try
        {
            app.Services.GetService<IStartupValidator>()?.Validate();
            await app.PrepareDatabaseAsync();
            OpenKeyRing(app.Services);
            return true;
        }
        catch (Exception e) when (IsProcessEntry && Describe(e) is { } line)
        {
            await Console.Error.WriteLineAsync("ScaiKey cannot start: " + line);
            Environment.ExitCode = 1;
            return false;
        }
    }

    private static bool IsProcessEntry => Assembly.GetEntryAssembly() == typeof(StartupFailure).Assembly;

    /// <summary>The one line for a failure the operator can fix; null for anything else (a bug keeps its stack trace).</summary>
    public static string? Describe(Exception e) => e switch
    {
        OptionsValidationException options => OneLine(string.Join(" ", options.Failures)),
        StartupException startup => OneLine(startup.Message),

        // The configuration binder's own message names the key and the type ("Failed to convert configuration value
        // 'x' at 'ScaiKey:Smtp:Port' to type 'System.Int32'.").
        InvalidOperationException binding when binding.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal)
            => OneLine(binding.Message),
        _ => null,
    };

    private static string OneLine(string text) => text.ReplaceLineEndings(" ");

    // The key file is read on first use; a damaged one should stop the start, not the first sign-in.
    private static void OpenKeyRing(IServiceProvider services)
    {
        try
        {
            services.GetRequiredService<Security.KeyRing>();
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            throw new StartupException(e.Message, e);
        }
    }
}
