using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;

namespace ScaiKey.Api.Tests.Infrastructure;

/// <summary>
/// Debian's slapd for one test class: an mdb database in a temporary folder, listening on a free loopback port,
/// with the suffix dc=example,dc=org and its rootdn as the service account. Tests change the directory with the
/// real ldap-utils (ldapadd, ldapmodify, ldapdelete). Nothing starts where slapd is missing (the tests skip).
/// </summary>
public sealed class SlapdPeer : IAsyncLifetime
{
    public const string Suffix = "dc=example,dc=org";
    public const string AdminDn = "cn=admin,dc=example,dc=org";
    public const string AdminPassword = "slapd-admin-Fz73pQ";

    private PeerProcess? _process;
    private string? _directory;

    public int Port { get; private set; }

    public string Url => $"ldap://127.0.0.1:{Port}/";

    public async Task InitializeAsync()
    {
        if (PeerProcess.Missing("slapd") is not null)
        {
            return;
        }

        _directory = Directory.CreateTempSubdirectory("scaikey-slapd-").FullName;
        Directory.CreateDirectory(Path.Combine(_directory, "db"));
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var config = Path.Combine(_directory, "slapd.conf");
        await File.WriteAllTextAsync(config, Config(_directory));
        _process = await PeerProcess.StartAsync("bash",
            ["-c", """
                slapd -f "$0" -h "$1" -d 0 & pid=$!
                for i in $(seq 200); do
                  if ldapsearch -x -H "$1" -b "" -s base >/dev/null 2>&1; then echo "READY $1"; wait $pid; exit; fi
                  sleep 0.05
                done
                kill $pid; exit 1
                """, config, Url],
            "READY", workingDirectory: _directory);
        await AddAsync($"""
            dn: {Suffix}
            objectClass: dcObject
            objectClass: organization
            o: Example
            dc: example
            """);
    }

    /// <summary>
    /// The slapd.conf of the test directory. <c>allow bind_anon_dn</c> makes slapd take a DN with an empty password
    /// as an unauthenticated bind that succeeds, as servers that allow it (Active Directory among them) do, so the
    /// test of ScaiKey's own refusal has something to refuse.
    /// </summary>
    public static string Config(string directory) => $"""
        include /etc/ldap/schema/core.schema
        include /etc/ldap/schema/cosine.schema
        include /etc/ldap/schema/inetorgperson.schema
        modulepath /usr/lib/ldap
        moduleload back_mdb
        allow bind_anon_dn
        pidfile {directory}/slapd.pid
        database mdb
        maxsize 1073741824
        suffix "{Suffix}"
        rootdn "{AdminDn}"
        rootpw {AdminPassword}
        directory {directory}/db
        index objectClass eq
        index entryUUID eq
        index uid,mail eq
        """;

    public Task AddAsync(string ldif) => RunAsync("ldapadd", ldif);

    public Task ModifyAsync(string ldif) => RunAsync("ldapmodify", ldif);

    public Task DeleteAsync(string dn) => RunAsync("ldapdelete", null, dn);

    public Task MoveAsync(string dn, string newRdn, string newSuperior) => RunAsync("ldapmodrdn", null, "-r", "-s", newSuperior, dn, newRdn);

    private async Task RunAsync(string tool, string? input, params string[] extra)
    {
        var info = new ProcessStartInfo(tool)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-x", "-H", Url, "-D", AdminDn, "-w", AdminPassword }.Concat(extra))
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input.ReplaceLineEndings("\n") + "\n");
        }

        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{tool} failed ({process.ExitCode}): {await output}{await error}\n{input}");
    }

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        if (_directory is not null)
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}

/// <summary>The service for the LDAP tests: its sync worker looks for work every second instead of every 15.</summary>
public sealed class LdapApp : ScaiKeyApp
{
    protected override void ConfigureHost(IWebHostBuilder builder) =>
        builder.UseSetting("ScaiKey:Federation:Ldap:PollSeconds", "1");
}
