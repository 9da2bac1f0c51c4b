using ScaiKey.Api.Audit;
using ScaiKey.Api.Hosting;
using ScaiKey.Api.Security;

namespace ScaiKey.Api.Cli;

/// <summary>Where a command writes: stdout for data (export lines, seed's JSON), stderr for progress and messages.</summary>
internal sealed class CliConsole(TextWriter output, TextWriter error, bool errorIsTerminal)
{
    public static CliConsole System => new(Console.Out, Console.Error, !Console.IsErrorRedirected);

    public TextWriter Out { get; } = output;

    public TextWriter Error { get; } = error;

    public bool ErrorIsTerminal { get; } = errorIsTerminal;
}

/// <summary>Fault injection for tests: runs inside each import batch's transaction (batch number, its context), just before the commit.</summary>
internal sealed class CliHooks
{
    public Func<int, ScaiKey.Data.ScaiKeyDbContext, Task>? BeforeCommitAsync { get; init; }
}

/// <summary>
/// The `scaikey` commands (import, export, seed, data-steps), run inside the service executable with the service's own
/// configuration and database setup, without starting the web server.
/// </summary>
internal static class CliRunner
{
    public const int Success = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int CompletedWithRejectedRows = 3;

    private static readonly string[] Commands = ["import", "export", "seed", "data-steps", "help"];

    public static bool IsCommand(string[] args) => args.Length > 0 && Commands.Contains(args[0], StringComparer.Ordinal);

    /// <summary>Entry from Program: builds the service's configuration and services, migrates, runs the command.</summary>
    public static async Task<int> MainAsync(string[] args)
    {
        if (args[0] == "help" || args.Contains("--help") || args.Contains("-h"))
        {
            await Console.Out.WriteAsync(Help);
            return Success;
        }

        // No command-line configuration source: the command's own arguments are not settings.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
        var configuration = builder.Configuration;

        // Logs go to stderr and only from warnings up, so stdout carries nothing but the command's data.
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddScaiKeyCore(configuration);
        builder.Services.AddScoped<Caller>();
        builder.Services.AddScoped<AuditLog>();
        await using var app = builder.Build();
        if (!await StartupFailure.PrepareAsync(app))
        {
            return Failed;
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // The first Ctrl+C rolls back the open batch and stops cleanly; the checkpoint keeps what committed.
            e.Cancel = true;
            cancel.Cancel();
        };
        // Buffered: an export to stdout writes a million lines, which an auto-flushing Console.Out would make a
        // system call each.
        await using var stdout = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false), 1 << 16);
        try
        {
            return await RunAsync(args, app.Services, new CliConsole(stdout, Console.Error, !Console.IsErrorRedirected), null, cancel.Token);
        }
        finally
        {
            await stdout.FlushAsync(CancellationToken.None);
        }
    }

    /// <summary>Runs one command against an already configured (and migrated) service provider, e.g. a test host's.</summary>
    public static async Task<int> RunAsync(string[] args, IServiceProvider services, CliConsole? console = null, CliHooks? hooks = null,
        CancellationToken ct = default)
    {
        console ??= CliConsole.System;
        if (args.Length == 0 || !IsCommand(args) || args[0] == "help")
        {
            await console.Out.WriteAsync(Help);
            return args.Length == 0 || !IsCommand(args) ? Usage : Success;
        }

        CliArgs parsed;
        try
        {
            parsed = CliArgs.Parse(args.Skip(1));
        }
        catch (CliUsageException ex)
        {
            await console.Error.WriteLineAsync($"scaikey {args[0]}: {ex.Message}");
            return Usage;
        }

        try
        {
            return args[0] switch
            {
                "import" => await ImportCommand.RunAsync(parsed, services, console, hooks, ct),
                "export" => await ExportCommand.RunAsync(parsed, services, console, ct),
                "seed" => await SeedCommand.RunAsync(parsed, services, console, ct),
                "data-steps" => await DataStepsCommand.RunAsync(parsed, services, console, ct),
                _ => Usage,
            };
        }
        catch (CliUsageException ex)
        {
            await console.Error.WriteLineAsync($"scaikey {args[0]}: {ex.Message}");
            return Usage;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await console.Error.WriteLineAsync($"scaikey {args[0]}: cancelled.");
            return Failed;
        }
    }

    public const string Help = """
        scaikey: bulk commands of the ScaiKey service. They use the service's configuration (appsettings.json,
        ScaiKey__Database__Provider, ConnectionStrings__Default, ...) and apply migrations first.

          scaikey import --tenant <id|slug> [--format csv|jsonl] [--batch-size 5000] [--errors <path>] [--restart] <file>
              Users from CSV (header row of UserCreate field names, group_ids separated by ';') or JSON Lines (one
              UserCreate object per line), plus an optional password_hash (bcrypt, PBKDF2-SHA256/512, Argon2id/i
              from another system) or a plain password (hashed with Argon2id: slow). Invalid rows are not written
              and are listed in <file>.errors.jsonl. Batches commit whole; <file>.checkpoint lets a rerun continue
              after the last committed batch (--restart ignores it).
              Exit: 0 all rows imported, 3 done with rejected rows, 1 failed, 2 usage error.

          scaikey export --tenant <id|slug> [--output <file>]
              The tenant's users as JSON Lines (the API's UserResponse fields, never password hashes), to stdout
              or a file. The output imports into another tenant.

          scaikey seed --tenants N --users M [--other-users K] [--password P] [--partner <id>]
              N new tenants, the first with M users, the others with K (default 1000), with varied deterministic
              names. --password sets ONE Argon2id hash shared by every seeded user (hashing a million passwords
              separately would take hours). Prints {"tenants":[{"id","slug","users"},...]} on stdout.

          scaikey data-steps
              The one-time data steps run after the migrations and what each reported, e.g. email addresses that
              became the same mailbox under the IDNA/NFC rule (by user id; see also the user.email_collision
              audit events).

        Progress goes to stderr.

        """;
}
