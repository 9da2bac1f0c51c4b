using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace ScaiKey.Api.Tests;

/// <summary>
/// DEVELOPERS.md's "HTTP stays at the edge": handlers bind, authorize and translate; services return results. A type
/// that is not an endpoint, page or HTTP helper must not hand out an <see cref="IResult"/> (or a task of one, or a
/// type that is one) from a public or internal method. Checked by reflection so a new service is held to it too.
/// </summary>
public sealed class HouseRulesTests
{
    [Fact]
    public void Only_endpoints_pages_and_http_helpers_return_IResult()
    {
        var offenders = new List<string>();
        var checkedMethods = 0;
        foreach (var type in typeof(Program).Assembly.GetTypes())
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                // Lambdas and local functions belong to the method that holds them, which is checked itself.
                if (method.IsPrivate || method.IsFamily || method.Name.StartsWith('<') || !ReturnsResult(method.ReturnType))
                {
                    continue;
                }

                checkedMethods++;
                if (!IsEdge(type))
                {
                    offenders.Add($"{type.FullName}.{method.Name}");
                }
            }
        }

        // Control: the scan sees the edge's own methods (Problems.NotFound, ValidationErrors.ToResult ...).
        Assert.True(checkedMethods > 10, $"only {checkedMethods} methods returning IResult found; the scan is broken");
        Assert.True(offenders.Count == 0, "Services returning IResult (return a result and translate it in the handler):\n" + string.Join("\n", offenders.Order()));
    }

    /// <summary>
    /// The directory's services read what they need of the request from <c>RequestInfo</c> (request id, origin,
    /// If-Match), built once by the handler, so the same write serves the API, SCIM and the console without a
    /// request in reach. A service method taking <see cref="HttpContext"/> (or its request or response) fails here.
    /// </summary>
    [Fact]
    public void Directory_services_take_no_HttpContext()
    {
        string[] services =
        [
            "ScaiKey.Api.Users.UserCommands", "ScaiKey.Api.Users.UserReads", "ScaiKey.Api.Users.UserListQuery",
            "ScaiKey.Api.Users.AccountEmails", "ScaiKey.Api.Users.PasswordChanges", "ScaiKey.Api.Users.SearchTotals",
            "ScaiKey.Api.Scim.ScimUserService", "ScaiKey.Api.Scim.ScimGroupService",
        ];
        var offenders = new List<string>();
        var checkedMethods = 0;
        foreach (var name in services)
        {
            var type = typeof(Program).Assembly.GetType(name) ?? throw new InvalidOperationException($"{name} not found; update the list");
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                checkedMethods++;
                if (method.GetParameters().Any(p => p.ParameterType == typeof(HttpContext) || p.ParameterType == typeof(HttpRequest) || p.ParameterType == typeof(HttpResponse)))
                {
                    offenders.Add($"{type.Name}.{method.Name}");
                }
            }
        }

        Assert.True(checkedMethods > 30, $"only {checkedMethods} methods found; the scan is broken");
        Assert.True(offenders.Count == 0, "Services taking HttpContext (pass RequestInfo.From(http) from the handler):\n" + string.Join("\n", offenders.Order()));
    }

    /// <summary>
    /// A password change goes through <c>Users/PasswordChanges.cs</c>, which also stamps PasswordChangedAt and revokes
    /// sessions and tokens; a handler writing the hash itself would skip both. Read from the source, since an EF
    /// object initializer, an ExecuteUpdate and a raw UPDATE all write the column without a setter call reflection
    /// could see. A new writer either goes through PasswordChanges or joins the list with its reason.
    /// </summary>
    [Fact]
    public void Only_PasswordChanges_and_the_listed_exceptions_write_a_users_password_hash()
    {
        var allowed = new Dictionary<string, string>
        {
            ["src/ScaiKey.Api/Users/PasswordChanges.cs"] = "the one place a password changes (policy, hash, stamp, revocation)",
            ["src/ScaiKey.Api/Users/UserInput.cs"] = "NewUser: a new row's first password (API, SCIM, import, seed); nothing to revoke yet",
            ["src/ScaiKey.Api/OAuth/Bootstrap.cs"] = "the first platform admin's new row, before anyone can sign in",
            ["src/ScaiKey.Api/SignIn/SignInService.cs"] = "the sign-in re-hash: the same password under current Argon2id parameters",
            ["src/ScaiKey.Api/Sql/SignInStatements.cs"] = "the same re-hash on the raw sign-in path (COALESCE keeps the stored hash)",
        };
        var root = RepositoryPaths.Root;
        var writers = new SortedSet<string>(StringComparer.Ordinal);
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "src"), "*.cs", SearchOption.AllDirectories))
        {
            var path = Path.GetRelativePath(root, file).Replace('\\', '/');

            // Build output, and migrations: they create the column, they write no one's password.
            if (path.Split('/') is var parts && (parts.Contains("bin") || parts.Contains("obj") || parts.Contains("Migrations")))
            {
                continue;
            }

            var lines = File.ReadAllLines(file);
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].TrimStart().StartsWith("//", StringComparison.Ordinal) || !PasswordHashWrite.IsMatch(lines[i]))
                {
                    continue;
                }

                writers.Add(path);
                if (!allowed.ContainsKey(path))
                {
                    offenders.Add($"{path}:{i + 1}: {lines[i].Trim()}");
                }
            }
        }

        // Control: every listed writer is found, so the patterns still see the writes (and a stale entry is removed).
        var unseen = allowed.Keys.Where(p => !writers.Contains(p)).ToList();
        Assert.True(unseen.Count == 0, "Listed password-hash writers where the scan finds no write (pattern broken, or remove the entry):\n" + string.Join("\n", unseen));
        Assert.True(offenders.Count == 0, "Password hash written outside Users/PasswordChanges.cs (call PasswordChanges.StoreAsync):\n" + string.Join("\n", offenders));
    }

    /// <summary>
    /// The ways C# here writes the column: an assignment or initializer (<c>PasswordHash = …</c>, <c>??=</c>), EF's
    /// <c>SetProperty(u =&gt; u.PasswordHash, …)</c> or <c>Property(…PasswordHash…).CurrentValue =</c>, and raw SQL
    /// naming the column (<c>{U(nameof(User.PasswordHash))} =</c>, <c>password_hash =</c>). Comparisons and lambdas do not match.
    /// </summary>
    private static readonly Regex PasswordHashWrite = new(
        @"\bPasswordHash\s*(\?\?)?=(?![=>])"
        + @"|SetProperty\(\s*\w+\s*=>\s*\w+\.PasswordHash\b"
        + @"|Property\([^)]*PasswordHash[^)]*\)+\.CurrentValue\s*="
        + @"|PasswordHash\)\)\}""?\s*=(?![=>])"
        + @"|\bpassword_hash""?\s*=(?![=>])",
        RegexOptions.CultureInvariant);

    private static bool ReturnsResult(Type type)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() is var definition
            && (definition == typeof(Task<>) || definition == typeof(ValueTask<>)))
        {
            type = type.GetGenericArguments()[0];
        }

        return typeof(IResult).IsAssignableFrom(type);
    }

    private static bool IsEdge(Type type)
    {
        while (type.DeclaringType is { } outer)
        {
            type = outer;
        }

        var ns = type.Namespace ?? string.Empty;
        return Array.Exists(EdgeTypes, t => t == type.FullName)
            || Array.Exists(EdgeNamespaces, n => ns == n || ns.StartsWith(n + ".", StringComparison.Ordinal))
            || Array.Exists(EdgeSuffixes, s => type.Name.EndsWith(s, StringComparison.Ordinal));
    }

    /// <summary>The HTTP helpers: problem+json and 422 writers (Errors), request binding (Http).</summary>
    private static readonly string[] EdgeNamespaces = ["ScaiKey.Api.Errors", "ScaiKey.Api.Http"];

    /// <summary>
    /// Route handlers (*Endpoints, *Endpoint), server-rendered pages and their form posts (*Pages, *Actions), and the
    /// translators from a service's result to a response (*Results: ScimResults, UserResults).
    /// </summary>
    private static readonly string[] EdgeSuffixes = ["Endpoints", "Endpoint", "Pages", "Actions", "Results"];

    /// <summary>
    /// Named edge types whose names say otherwise: HostedSecondFactor is the hosted pages' shared second step (cookies
    /// and redirects); MfaGrant is the token endpoint's grant, answering with OpenIddict's sign-in or protocol error.
    /// </summary>
    private static readonly string[] EdgeTypes = ["ScaiKey.Api.SignIn.HostedSecondFactor", "ScaiKey.Api.OpenIdConnect.MfaGrant"];
}
