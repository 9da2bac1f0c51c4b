using System.Text.Json.Nodes;

namespace ScaiKey.Api.AdminConsole.Components;

// Razor components are public classes, so what they take as parameters must be public too.

/// <summary>What the page frame shows around every signed-in page: who, their home tenant, the form token.</summary>
public sealed record Frame(string Email, string HomeTenantId, string FormToken);

/// <summary>One page of a list: where it is and how many there are in all (the API's exact total).</summary>
public sealed record Paging(int Page, int PerPage, int TotalItems, int TotalPages)
{
    public static Paging From(JsonNode? pagination) => new(
        (int?)pagination?["page"] ?? 1, (int?)pagination?["per_page"] ?? 0, (int?)pagination?["total_items"] ?? 0, (int?)pagination?["total_pages"] ?? 0);
}

/// <summary>The users list's filters and order, as the API's own list parameters.</summary>
public sealed record UserListQuery(string? Search, string? Status, string? OuId, string? GroupId, string? Mfa, string SortBy, string SortOrder, int Page)
{
    public static readonly string[] SortFields = ["created_at", "updated_at", "email", "display_name", "last_name", "last_login_at", "status"];
    public static readonly string[] Statuses = ["ACTIVE", "PENDING_EMAIL_VERIFICATION", "PENDING_APPROVAL", "DISABLED", "LOCKED"];

    /// <summary>The query string of this list at another page (for the console's links and the API call alike).</summary>
    public string ToQuery(int page, int? perPage = null)
    {
        var parts = new List<string>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                parts.Add(name + "=" + Uri.EscapeDataString(value));
            }
        }

        Add("search", Search);
        Add("status", Status);
        Add("ou_id", OuId);
        Add("group_id", GroupId);
        Add("mfa_enabled", Mfa);
        Add("sort_by", SortBy);
        Add("sort_order", SortOrder);
        Add("page", page.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("per_page", perPage?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return string.Join("&", parts);
    }
}
