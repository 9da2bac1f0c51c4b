using System.Diagnostics;
using System.Text;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>
/// A real server nobody here wrote (oidc-provider or the samlify IdP on Node.js, Debian's slapd), started on
/// loopback for a test class and killed with its children when disposed. <see cref="StartAsync"/> returns once the
/// process printed a line starting with the ready prefix (a peer prints its address there); everything it printed
/// is kept in <see cref="Output"/> for failure messages.
/// </summary>
public sealed class PeerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private PeerProcess(Process process) => _process = process;

    /// <summary>tests/peers: the Node.js peers' scripts and their lockfile (`npm ci` there installs them).</summary>
    public static string PeersFolder => Path.Combine(RepositoryPaths.Root, "tests", "peers");

    /// <summary>The line the peer printed when ready (without the prefix, trimmed).</summary>
    public string Ready { get; private set; } = "";

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<PeerProcess> StartAsync(
        string fileName, IEnumerable<string> arguments, string readyPrefix, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? PeersFolder,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var peer = new PeerProcess(Process.Start(info) ?? throw new InvalidOperationException("could not start " + fileName));
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (peer._output)
            {
                peer._output.AppendLine(line);
            }

            if (line.StartsWith(readyPrefix, StringComparison.Ordinal))
            {
                ready.TrySetResult(line[readyPrefix.Length..].Trim());
            }
        }

        peer._process.OutputDataReceived += (_, e) => OnLine(e.Data);
        peer._process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        peer._process.EnableRaisingEvents = true;
        peer._process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"{fileName} exited before it was ready"));
        peer._process.BeginOutputReadLine();
        peer._process.BeginErrorReadLine();

        try
        {
            peer.Ready = await ready.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(60));
            return peer;
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            var output = peer.Output;
            await peer.DisposeAsync();
            throw new InvalidOperationException($"{fileName} {string.Join(' ', info.ArgumentList)} did not become ready: {e.Message}\n{output}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or System.ComponentModel.Win32Exception)
        {
            // Gone already, or not ours to wait for: nothing is left to stop.
        }

        _process.Dispose();
    }

    /// <summary>Why a test cannot run here (a program or the peers' packages missing), or null when it can.</summary>
    public static string? Missing(params string[] needs)
    {
        foreach (var need in needs)
        {
            var reason = need switch
            {
                "node" when !File.Exists("/usr/bin/node") => "/usr/bin/node is missing; install it with `apt-get install -y nodejs npm` (.ci/run does).",
                "peers" when !Directory.Exists(Path.Combine(PeersFolder, "node_modules")) =>
                    "tests/peers/node_modules is missing; run `npm ci --prefix tests/peers` (.ci/run does).",
                "slapd" when !File.Exists("/usr/sbin/slapd") || !File.Exists("/usr/bin/ldapadd") =>
                    "/usr/sbin/slapd or /usr/bin/ldapadd is missing; install them with `apt-get install -y slapd ldap-utils` (.ci/run does).",
                "chromium" when !File.Exists("/usr/bin/chromium") => "/usr/bin/chromium is missing; install it with `apt-get install -y chromium` (.ci/run does).",
                _ => null,
            };
            if (reason is not null)
            {
                return reason;
            }
        }

        return null;
    }
}

/// <summary>
/// A test that needs real peers (<c>node</c>, <c>peers</c> for tests/peers/node_modules, <c>slapd</c>,
/// <c>chromium</c>): skipped with the reason and the command that fixes it where one is missing. CI installs them
/// all and fails a run that skips anything.
/// </summary>
public sealed class PeerFactAttribute : FactAttribute
{
    public PeerFactAttribute(params string[] needs)
    {
        if (PeerProcess.Missing(needs) is { } reason)
        {
            Skip = reason;
        }
    }
}
