using System.ComponentModel;

namespace ScaiKey.Api.Consents;

[Description("A user's remembered consent to an application's scopes; revoking it also ends the user's tokens from that application.")]
internal sealed record ConsentResponse(
    string Id,
    string ApplicationId,
    [property: Description("The application's name now.")] string ApplicationName,
    string ClientId,
    [property: Description("Every scope the user has allowed the application, sorted.")] IReadOnlyList<string> Scopes,
    DateTime CreatedAt,
    [property: Description("When scopes were last added.")] DateTime UpdatedAt);
