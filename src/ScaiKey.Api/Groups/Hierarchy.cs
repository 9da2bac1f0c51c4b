using Microsoft.EntityFrameworkCore;
using ScaiKey.Data;

namespace ScaiKey.Api.Groups;

/// <summary>Subtree walks over the tenant's OU and group trees (small next to the user table, read whole).</summary>
internal static class Hierarchy
{
    /// <summary>The OU and all its descendants, or null when the OU is not in the tenant.</summary>
    public static async Task<List<string>?> OuSubtreeAsync(ScaiKeyDbContext db, string tenantId, string ouId, CancellationToken ct)
    {
        var nodes = await db.OrganizationalUnits.AsNoTracking().Where(o => o.TenantId == tenantId)
            .Select(o => new { o.Id, o.ParentId }).ToListAsync(ct);
        return Subtree(nodes.Select(n => (n.Id, n.ParentId)), ouId);
    }

    /// <summary>The group and every group nested below it, or null when the group is not in the tenant.</summary>
    public static async Task<List<string>?> GroupSubtreeAsync(ScaiKeyDbContext db, string tenantId, string groupId, CancellationToken ct)
    {
        var nodes = await db.Groups.AsNoTracking().Where(g => g.TenantId == tenantId)
            .Select(g => new { g.Id, g.ParentGroupId }).ToListAsync(ct);
        return Subtree(nodes.Select(n => (n.Id, n.ParentGroupId)), groupId);
    }

    public static List<string>? Subtree(IEnumerable<(string Id, string? ParentId)> nodes, string rootId)
    {
        var children = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var exists = false;
        foreach (var (id, parentId) in nodes)
        {
            exists |= id == rootId;
            if (parentId is not null)
            {
                if (!children.TryGetValue(parentId, out var list))
                {
                    children[parentId] = list = [];
                }

                list.Add(id);
            }
        }

        if (!exists)
        {
            return null;
        }

        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>([rootId]);
        while (stack.TryPop(out var id))
        {
            if (!seen.Add(id))
            {
                continue;
            }

            result.Add(id);
            if (children.TryGetValue(id, out var list))
            {
                list.ForEach(stack.Push);
            }
        }

        return result;
    }

    /// <summary>True when making <paramref name="newParentId"/> the parent of <paramref name="id"/> would close a loop.</summary>
    public static bool WouldCycle(IReadOnlyDictionary<string, string?> parentOf, string id, string newParentId)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (string? current = newParentId; current is not null; current = parentOf.GetValueOrDefault(current))
        {
            if (current == id || !seen.Add(current))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// How deep groups may nest (a top-level group is level 1). Effective membership is walked through every level,
    /// and pages draw the tree level by level; an unbounded chain (thousands of levels, cheap to make over the API or
    /// SCIM) cost every reader and once crashed the console's renderer. Directories nest a handful of levels.
    /// </summary>
    public const int MaxGroupDepth = 32;

    /// <summary>
    /// True when a group (<paramref name="id"/> with everything below it, or a new group when null) placed under
    /// <paramref name="newParentId"/> would reach below <see cref="MaxGroupDepth"/>.
    /// </summary>
    public static bool WouldBeTooDeep(IReadOnlyDictionary<string, string?> parentOf, string? id, string newParentId) =>
        Depth(parentOf, newParentId) + (id is null ? 1 : Height(parentOf, id)) > MaxGroupDepth;

    /// <summary>The level of <paramref name="id"/>: 1 for a top-level group.</summary>
    private static int Depth(IReadOnlyDictionary<string, string?> parentOf, string id)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var depth = 0;
        for (string? current = id; current is not null && seen.Add(current); current = parentOf.GetValueOrDefault(current))
        {
            depth++;
        }

        return depth;
    }

    /// <summary>The levels of the subtree of <paramref name="id"/>, itself included.</summary>
    private static int Height(IReadOnlyDictionary<string, string?> parentOf, string id)
    {
        var children = parentOf.Where(p => p.Value is not null).ToLookup(p => p.Value!, p => p.Key, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal) { id };
        var level = new List<string> { id };
        var height = 0;
        while (level.Count > 0)
        {
            height++;
            level = level.SelectMany(n => children[n]).Where(seen.Add).ToList();
        }

        return height;
    }
}
