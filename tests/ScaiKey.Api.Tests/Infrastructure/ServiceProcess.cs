using System.Diagnostics;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>
/// The built service run as its own process (`dotnet ScaiKey.Api.dll …`, what tools/scaikey runs with SCAIKEY_DLL),
/// in a folder of its own so that no appsettings.json or ./data of the repository is read. Only the settings given
/// are passed: inherited ScaiKey__*, ConnectionStrings__* and ASPNETCORE_*/DOTNET_ENVIRONMENT variables are removed.
/// </summary>
internal static class ServiceProcess
{
    /// <summary>The service's dll as built next to the tests (the project reference copies it with its runtimeconfig).</summary>
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "ScaiKey.Api.dll");

    public static async Task<CliResult> RunAsync(
        string workingDirectory, IReadOnlyDictionary<string, string> settings, string[] args, string? stdin = null, TimeSpan? timeout = null)
    {
        using var process = Process.Start(StartInfo(workingDirectory, settings, args)) ?? throw new InvalidOperationException("could not start dotnet " + Dll);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet ScaiKey.Api.dll {string.Join(' ', args)} did not exit; stdout: {await output} stderr: {await error}");
        }

        return new CliResult(process.ExitCode, await output, await error);
    }

    /// <summary>Starts the service and leaves it running; its stdout lines are collected as they come.</summary>
    public static RunningService Start(string workingDirectory, IReadOnlyDictionary<string, string> settings, string[] args)
    {
        var process = new Process { StartInfo = StartInfo(workingDirectory, settings, args) };
        var running = new RunningService(process);
        process.OutputDataReceived += (_, e) => running.Add(e.Data);
        process.ErrorDataReceived += (_, e) => running.Add(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException("could not start dotnet " + Dll);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return running;
    }

    private static ProcessStartInfo StartInfo(string workingDirectory, IReadOnlyDictionary<string, string> settings, string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        info.ArgumentList.Add(Dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var name in info.Environment.Keys.ToList())
        {
            if (name.StartsWith("ScaiKey__", StringComparison.OrdinalIgnoreCase) || name.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase) || name.Equals("DOTNET_ENVIRONMENT", StringComparison.OrdinalIgnoreCase))
            {
                info.Environment.Remove(name);
            }
        }

        foreach (var (name, value) in settings)
        {
            info.Environment[name.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        return info;
    }

    /// <summary>A fresh folder under the temp directory, for one run's working directory and files.</summary>
    public static string NewFolder()
    {
        var path = Path.Combine(Path.GetTempPath(), "scaikey-process-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }
}

/// <summary>A service process left running: its output lines as they come, and a kill on dispose.</summary>
internal sealed class RunningService(Process process) : IDisposable
{
    private readonly List<string> _lines = [];

    public void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Add(line);
        }
    }

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Waits until a line matches (the console logger writes from a queue of its own, so a line comes a little after its event).</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (Lines.FirstOrDefault(match) is { } line)
            {
                return line;
            }

            if (process.HasExited)
            {
                break;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("no matching line; the service wrote:\n" + string.Join('\n', Lines));
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        finally
        {
            process.Dispose();
        }
    }
}
