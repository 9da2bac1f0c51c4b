using Microsoft.EntityFrameworkCore;
using ScaiKey.Data;

namespace ScaiKey.Api.Cli;

/// <summary>
/// `scaikey data-steps`: the one-time data steps run after the migrations (e.g. the email renormalization), with
/// their state and report, so an operator can read what a step left for them (collisions, by user id) without SQL.
/// </summary>
internal static class DataStepsCommand
{
    public static async Task<int> RunAsync(CliArgs args, IServiceProvider services, CliConsole console, CancellationToken ct)
    {
        args.RejectUnknown(maxPositional: 0);
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
        var steps = await db.DataSteps.AsNoTracking().OrderBy(s => s.Name).ToListAsync(ct);
        if (steps.Count == 0)
        {
            await console.Out.WriteLineAsync("No data steps have run.");
        }

        foreach (var step in steps)
        {
            var state = step.CompletedAt is { } done
                ? $"completed {done:yyyy-MM-dd HH:mm:ss}Z"
                : $"running on {step.ClaimedBy} (claim renewed {step.ClaimedAt:yyyy-MM-dd HH:mm:ss}Z)";
            await console.Out.WriteLineAsync($"{step.Name}: {state}");
            if (step.Report is not null)
            {
                foreach (var line in step.Report.Split('\n'))
                {
                    await console.Out.WriteLineAsync("  " + line);
                }
            }
        }

        return CliRunner.Success;
    }
}
