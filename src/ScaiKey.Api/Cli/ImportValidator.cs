using System.Text.Json;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Http;
using ScaiKey.Api.Security;
using ScaiKey.Api.Tenancy;
using ScaiKey.Api.Users;

namespace ScaiKey.Api.Cli;

/// <summary>A row that passed validation: the API's UserCreate plus an optional pre-hashed password.</summary>
internal sealed record ValidRow(int Line, UserCreate Input, string? PasswordHash);

/// <summary>
/// Checks one import row with the API's rules: the UserCreate body reader and field rules, the OU and group
/// references, the tenant's password policy, and uniqueness of email and username against the tenant's live users
/// and the rows accepted before it. Error locations are the API's without the leading "body".
/// </summary>
internal sealed class ImportValidator(
    TenantContext tenant,
    HashSet<string> ouIds,
    HashSet<string> groupIds,
    Dictionary<string, int> emails,
    Dictionary<string, int> usernames)
{
    public ValidRow? Validate(int line, JsonElement root, List<ValidationError> rowErrors)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            rowErrors.Add(new ValidationError([], "Input should be a valid dictionary", "dict_type"));
            return null;
        }

        var errors = new ValidationErrors();
        var reader = new BodyReader(root, errors);
        var input = UserInput.ReadCreate(reader);
        var passwordHash = reader.String(ImportRows.PasswordHashField, 512);
        reader.RejectUnknownFields();

        if (input.OuId is not null && !ouIds.Contains(input.OuId))
        {
            errors.ValueError(["body", "ou_id"], "organizational unit not found in this tenant");
        }

        for (var i = 0; i < input.GroupIds.Count; i++)
        {
            if (!groupIds.Contains(input.GroupIds[i]))
            {
                errors.ValueError(["body", "group_ids", i], "group not found in this tenant");
            }
        }

        if (input.Password is not null && !HasError(errors, "password"))
        {
            foreach (var violation in PasswordPolicy.Violations(input.Password, input.Email, tenant.Settings.PasswordPolicy))
            {
                errors.ValueError(["body", "password"], violation);
            }
        }

        if (passwordHash is not null && !HasError(errors, ImportRows.PasswordHashField))
        {
            if (input.Password is not null)
            {
                errors.ValueError(["body", ImportRows.PasswordHashField], "give either password or password_hash, not both");
            }
            else if (ForeignPasswordHashes.CostRefusal(passwordHash) is { } tooCostly)
            {
                errors.ValueError(["body", ImportRows.PasswordHashField], tooCostly);
            }
            else if (!PasswordHasher.IsSupported(passwordHash))
            {
                errors.ValueError(["body", ImportRows.PasswordHashField],
                    "unrecognized password hash format; accepted: Argon2id/Argon2i (PHC), bcrypt ($2a$, $2b$, $2y$), PBKDF2-SHA256/SHA512 (PHC, passlib or Django)");
            }
        }

        var email = HasError(errors, "email") ? null : Users.EmailAddresses.Normalize(input.Email);
        if (email is not null && emails.TryGetValue(email, out var emailLine))
        {
            errors.ValueError(["body", "email"], emailLine == 0
                ? "a user with this email address already exists in this tenant"
                : $"a user with this email address is on line {emailLine} of this file");
        }

        var username = input.Username is null || HasError(errors, "username") ? null : input.Username.ToLowerInvariant();
        if (username is not null && usernames.TryGetValue(username, out var usernameLine))
        {
            errors.ValueError(["body", "username"], usernameLine == 0
                ? "a user with this username already exists in this tenant"
                : $"a user with this username is on line {usernameLine} of this file");
        }

        // Export lines carry read-only UserResponse fields; they are dropped rather than refused.
        var kept = errors.Items.Where(e => !(e.Type == "extra_forbidden" && e.Loc.Count == 2 && e.Loc[1] is string name
            && ImportRows.ExportOnlyFields.Contains(name))).ToList();
        if (kept.Count > 0)
        {
            rowErrors.AddRange(kept.Select(e => e with { Loc = e.Loc.Count > 0 && Equals(e.Loc[0], "body") ? e.Loc.Skip(1).ToList() : e.Loc }));
            return null;
        }

        emails[email!] = line;
        if (username is not null)
        {
            usernames[username] = line;
        }

        return new ValidRow(line, input, passwordHash);
    }

    private static bool HasError(ValidationErrors errors, string field) =>
        errors.Items.Any(e => e.Loc.Count >= 2 && Equals(e.Loc[1], field));
}
