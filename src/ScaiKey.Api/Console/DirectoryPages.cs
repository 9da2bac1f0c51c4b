using System.Text.Json.Nodes;
using ScaiKey.Api.AdminConsole.Components;

namespace ScaiKey.Api.AdminConsole;

/// <summary>
/// The tenant's directory pages (organizational units, groups, role assignments, audit log): registered here, and
/// what they share. Like the users pages, each reads and changes only through the public API with the admin's token.
/// </summary>
internal static class DirectoryPages
{
    /// <summary>The API's largest page; trees are read whole, page by page, up to this many pages.</summary>
    private const int PerPage = 100;
    private const int MaxPages = 100;

    public static void MapDirectoryPages(this IEndpointRouteBuilder console)
    {
        OuPages.Map(console);
        GroupPages.Map(console);
        GroupActions.Map(console);
        RolePages.Map(console);
        AuditPages.Map(console);
    }

    public static string ConsoleTenantPath(string tenantId) => $"/console/tenants/{Uri.EscapeDataString(tenantId)}";

    public static string ApiTenantPath(string tenantId) => $"api/v1/tenants/{Uri.EscapeDataString(tenantId)}";

    /// <summary>
    /// What the directory navigation and buttons need: the admin's permissions in the tenant, and whether the admin
    /// API lets them read its role assignments (only platform and partner admins).
    /// </summary>
    public static async Task<DirectoryAccess> AccessAsync(ConsoleApi api, string token, string tenantId, CancellationToken ct)
    {
        var permissions = UserPages.PermissionsAsync(api, token, tenantId, ct);
        var roles = api.GetAsync(token, $"api/v1/admin/role-assignments?tenant_id={Uri.EscapeDataString(tenantId)}&per_page=1", ct);
        return new DirectoryAccess(tenantId, await permissions, (await roles).IsSuccess);
    }

    /// <summary>Every item of a paged API list (the OU and group trees are read whole), or the first failure.</summary>
    public static async Task<(IReadOnlyList<JsonNode> Items, ApiResult Result)> ReadAllAsync(ConsoleApi api, string token, string path, CancellationToken ct)
    {
        var items = new List<JsonNode>();
        var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        for (var page = 1; ; page++)
        {
            var result = await api.GetAsync(token, $"{path}{separator}per_page={PerPage}&page={page}", ct);
            if (!result.IsSuccess)
            {
                return (items, result);
            }

            items.AddRange(UserPages.Items(result.Data));
            if (page >= Paging.From(result.Json?["pagination"]).TotalPages || page >= MaxPages)
            {
                return (items, result);
            }
        }
    }

    /// <summary>
    /// Levels the console draws of a tree; below them a node links to its own page instead. The API bounds group
    /// nesting, but OUs and groups made before that bound may be deeper, and every level is a nested component
    /// (thousands of them overflowed the renderer's stack).
    /// </summary>
    public const int MaxTreeLevels = 32;

    /// <summary>A flat list with parent ids as a tree, ordered by name at each level; orphans (a parent out of view) become roots.</summary>
    public static IReadOnlyList<TreeNode> Tree(IReadOnlyList<JsonNode> items, string parentField, Func<string, string> href, Func<JsonNode, string?>? note = null)
    {
        var byId = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (item["id"]?.ToString() is { } id)
            {
                byId.TryAdd(id, item);
            }
        }

        var children = items.ToLookup(i => i[parentField]?.ToString() is { } p && byId.ContainsKey(p) ? p : string.Empty);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        IReadOnlyList<TreeNode> Level(string parent, int level) => children[parent]
            .OrderBy(i => i["name"]?.ToString(), StringComparer.OrdinalIgnoreCase)
            .Select(i => i["id"]?.ToString() ?? string.Empty)
            .Where(id => byId.ContainsKey(id) && seen.Add(id))
            .Select(id =>
            {
                var item = byId[id];
                var deeper = level >= MaxTreeLevels && children[id].Any();
                var text = note?.Invoke(item) is { } n ? (deeper ? n + "; more levels on its page" : n) : (deeper ? "more levels on its page" : null);
                return new TreeNode(id, item["name"]?.ToString() ?? id, href(id), text, deeper ? [] : Level(id, level + 1));
            }).ToList();
        return Level(string.Empty, 1);
    }

    /// <summary>The ids of this node and every node below it (what a move may not choose as the new parent).</summary>
    public static HashSet<string> Subtree(IReadOnlyList<JsonNode> items, string parentField, string rootId)
    {
        var children = items.ToLookup(i => i[parentField]?.ToString() ?? string.Empty, i => i["id"]?.ToString() ?? string.Empty);
        var result = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>([rootId]);
        while (stack.TryPop(out var id))
        {
            if (result.Add(id))
            {
                foreach (var child in children[id])
                {
                    stack.Push(child);
                }
            }
        }

        return result;
    }

    /// <summary>The form's value, or null when empty.</summary>
    public static string? Field(IFormCollection form, string name) => form[name].ToString().Trim() is { Length: > 0 } value ? value : null;

    /// <summary>
    /// The id of the tenant's user with exactly this email (the users search, compared case-insensitively), or null.
    /// </summary>
    public static async Task<string?> UserIdByEmailAsync(ConsoleApi api, string token, string tenantId, string email, CancellationToken ct)
    {
        var found = await api.GetAsync(token, $"{ApiTenantPath(tenantId)}/users?search={Uri.EscapeDataString(email)}&per_page=100", ct);
        return UserPages.Items(found.Data).FirstOrDefault(u => string.Equals(u["email"]?.ToString(), email, StringComparison.OrdinalIgnoreCase))?["id"]?.ToString();
    }

    /// <summary>A 422's field errors, with the API's other refusals (409, 403...) as the general error.</summary>
    public static (string? Error, IReadOnlyDictionary<string, string> Fields) Errors(ApiResult result)
    {
        var fields = result.FieldErrors();
        var general = result.Status == 422 ? fields.GetValueOrDefault(string.Empty) ?? "Nothing was changed: correct the fields marked below." : result.Message;
        return (general, fields);
    }
}
