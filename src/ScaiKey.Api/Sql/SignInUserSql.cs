using System.Data.Common;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using ScaiKey.Data.Entities;
using static ScaiKey.Api.Sql.ModelSql;
using ScaiKey.Api.SignIn;

namespace ScaiKey.Api.Sql;

/// <summary>
/// The hand-written read of a live user for sign-in, shared by the password check (by normalized email,
/// <see cref="SignInStatements"/>) and the second-factor step (by id, <see cref="SecondFactorStatements"/>): the
/// same columns, read back by <see cref="Read"/> into a <see cref="SignInUser"/>.
/// </summary>
internal sealed class SignInUserSql
{
    private readonly ValueConverter _status;
    private readonly ValueConverter _source;
    private readonly string _select;
    private readonly IEntityType _users;

    public SignInUserSql(IEntityType users, IEntityType factors)
    {
        _users = users;
        _status = Converter(users, nameof(User.Status));
        _source = Converter(users, nameof(User.IdentitySource));
        Active = _status.ConvertToProvider(UserStatus.Active)!;
        string U(string property) => Column(users, property);
        string F(string property) => Column(factors, property);

        // $1 is the tenant. The columns are read in this order by Read.
        _select = $"""
            SELECT {U(nameof(User.Id))}, {U(nameof(User.PasswordHash))}, {U(nameof(User.Status))}, {U(nameof(User.LockedAt))},
                   {U(nameof(User.RequirePasswordChange))}, {U(nameof(User.Email))}, {U(nameof(User.EmailVerified))},
                   {U(nameof(User.FirstName))}, {U(nameof(User.LastName))}, {U(nameof(User.DisplayName))},
                   {U(nameof(User.Locale))}, {U(nameof(User.Timezone))},
                   EXISTS (SELECT 1 FROM {Table(factors)} WHERE {F(nameof(MfaFactor.UserId))} = {Table(users)}.{U(nameof(User.Id))}
                           AND {F(nameof(MfaFactor.TenantId))} = $1 AND {F(nameof(MfaFactor.ConfirmedAt))} IS NOT NULL),
                   {U(nameof(User.IdentitySource))}
            FROM {Table(users)}
            """;
    }

    /// <summary>The provider's value of ACTIVE, for statements that require it.</summary>
    public object Active { get; }

    public ValueConverter Status => _status;

    /// <summary>The live user of tenant $1 whose <paramref name="keyProperty"/> is $2.</summary>
    public string FindBy(string keyProperty) => $"""
        {_select}
        WHERE {Column(_users, nameof(User.TenantId))} = $1 AND {Column(_users, keyProperty)} = $2 AND {Column(_users, nameof(User.DeletedAt))} IS NULL
        LIMIT 1
        """;

    public SignInUser? Read(DbDataReader reader)
    {
        if (!reader.Read())
        {
            return null;
        }

        var principal = new PrincipalUser(
            reader.GetString(0), reader.GetString(5), reader.GetBoolean(6), NullableString(reader, 7), NullableString(reader, 8),
            NullableString(reader, 9), reader.GetString(10), reader.GetString(11));
        return new SignInUser(
            NullableString(reader, 1), (UserStatus)_status.ConvertFromProvider(reader.GetString(2))!, NullableUtc(reader, 3),
            reader.GetBoolean(4), principal, reader.GetBoolean(12), (IdentitySource)_source.ConvertFromProvider(reader.GetString(13))!);
    }
}
