using System.Text.Json.Nodes;

using System.Globalization;

namespace ScaiKey.Api.AdminConsole.Components;

/// <summary>API values in words for the pages.</summary>
public static class Words
{
    public static string Status(string? status) => status switch
    {
        "ACTIVE" => "Active",
        "PENDING_EMAIL_VERIFICATION" => "Email not verified",
        "PENDING_APPROVAL" => "Awaiting approval",
        "DISABLED" => "Disabled",
        "LOCKED" => "Locked",
        null => string.Empty,
        _ => status,
    };

    public static string Field(string field) => field switch
    {
        "created_at" => "Created",
        "updated_at" => "Updated",
        "email" => "Email",
        "display_name" => "Display name",
        "last_name" => "Last name",
        "last_login_at" => "Last sign-in",
        "status" => "Status",
        _ => field,
    };

    /// <summary>An API timestamp as UTC, minutes precision; empty when absent.</summary>
    public static string Time(JsonNode? value) =>
        value is not null && DateTime.TryParse(value.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at)
            ? at.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)
            : "—";
}
