using System.Reflection;
using ScaiKey.Api.Tenancy;

namespace ScaiKey.Api.Security;

/// <summary>
/// Checks a new password against the tenant's policy. Messages name the rule broken, never the password.
/// </summary>
internal static class PasswordPolicy
{
    private static readonly Lazy<HashSet<string>> CommonPasswords = new(LoadCommonPasswords);

    public static IEnumerable<string> Violations(string password, string? email, PasswordPolicySettings policy)
    {
        if (password.Length < policy.MinLength)
        {
            yield return $"password must be at least {policy.MinLength} characters long";
        }

        if (password.Length > policy.MaxLength)
        {
            yield return $"password must be at most {policy.MaxLength} characters long";
        }

        if (policy.BlockCommonPasswords && CommonPasswords.Value.Contains(password.ToLowerInvariant()))
        {
            yield return "password is too common; choose one that is not on lists of frequently used passwords";
        }

        // Local parts shorter than 3 characters would forbid most passwords while protecting nothing.
        var localPart = email?.Split('@')[0];
        if (policy.DisallowEmailLocalPart && localPart is { Length: >= 3 }
            && password.Contains(localPart, StringComparison.OrdinalIgnoreCase))
        {
            yield return "password must not contain the local part of the user's email address";
        }
    }

    private static HashSet<string> LoadCommonPasswords()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("common-passwords.txt")
            ?? throw new InvalidOperationException("The common-password list is missing from the build.");
        using var reader = new StreamReader(stream);
        var set = new HashSet<string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && !line.StartsWith("#!comment:", StringComparison.Ordinal))
            {
                set.Add(line.ToLowerInvariant());
            }
        }

        return set;
    }
}
