using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Errors;
using ScaiKey.Api.Groups;
using ScaiKey.Api.Http;
using ScaiKey.Data;
using ScaiKey.Data.Entities;
using ScaiKey.Api.Sql;

namespace ScaiKey.Api.Users;

/// <summary>Read side of the directory: projections straight to response records, always filtered by tenant.</summary>
internal sealed partial class UserReads(ScaiKeyDbContext db, UserRowReader rows)
{
    public static readonly string[] SortFields = ["created_at", "updated_at", "email", "display_name", "last_name", "last_login_at", "status"];

    public static readonly string[] IncludeWords = ["federated_identities", "applications", "sessions", "mfa_factors"];

    private static readonly Func<ScaiKeyDbContext, string, string, IAsyncEnumerable<DirectGroup>> FindDirectGroups =
        EF.CompileAsyncQuery((ScaiKeyDbContext db, string tenantId, string userId) =>
            db.GroupMembers.AsNoTracking()
                .Where(m => m.TenantId == tenantId && m.UserId == userId)
                .Join(db.Groups, m => m.GroupId, g => g.Id, (m, g) => new DirectGroup(g.Id, g.Name, g.ParentGroupId)));

    /// <summary>The user with groups and requested expansions, and its version for the ETag; null when not visible.</summary>
    public async Task<(T Response, int Version)?> GetAsync<T>(string tenantId, string userId, UserIncludes includes, CancellationToken ct)
        where T : UserResponse, new()
    {
        if (await rows.ReadAsync(db, tenantId, userId, ct) is not var (row, direct))
        {
            return null;
        }

        var groups = await WithAncestorsAsync(tenantId, direct, ct);
        var response = new T
        {
            Email = row.Email, Locale = row.Locale, Timezone = row.Timezone, Id = row.Id,
            Username = row.Username, FirstName = row.FirstName, LastName = row.LastName, DisplayName = row.DisplayName,
            Phone = row.Phone, EmailVerified = row.EmailVerified, AvatarUrl = row.AvatarUrl, OuId = row.OuId, OuPath = row.OuPath,
            Status = row.Status, IdentitySource = row.IdentitySource, MfaEnabled = row.MfaEnabled, Groups = groups,
            CustomAttributes = UserInput.ParseAttributes(row.CustomAttributesJson), CreatedAt = row.CreatedAt,
            UpdatedAt = row.UpdatedAt, LastLoginAt = row.LastLoginAt, PasswordChangedAt = row.PasswordChangedAt,
        };
        if (response is AdminUserResponse admin)
        {
            admin.TenantId = row.TenantId;
        }

        if (includes.HasFlag(UserIncludes.FederatedIdentities))
        {
            response.FederatedIdentities = await ScaiKey.Api.IdentityProviders.FederatedIdentityEndpoints.ForUserAsync(db, tenantId, userId, ct);
        }

        if (includes.HasFlag(UserIncludes.Applications))
        {
            response.Applications = await ScaiKey.Api.Applications.ApplicationAccess.UserApplicationsAsync(
                db, tenantId, userId, groups.Select(g => g.GroupId).ToList(), ct);
        }

        if (includes.HasFlag(UserIncludes.Sessions))
        {
            response.Sessions = await db.UserSessions.AsNoTracking()
                .Where(s => s.TenantId == tenantId && s.UserId == userId && s.RevokedAt == null)
                .OrderByDescending(s => s.LastSeenAt)
                .Select(s => new UserSessionResponse(s.Id, s.UserAgent, s.IpAddress, s.CreatedAt, s.LastSeenAt))
                .ToListAsync(ct);
        }

        if (includes.HasFlag(UserIncludes.MfaFactors))
        {
            // Confirmed factors only: an unfinished enrolment protects nothing, as mfa_enabled says.
            response.MfaFactors = await db.MfaFactors.AsNoTracking()
                .Where(f => f.TenantId == tenantId && f.UserId == userId && f.ConfirmedAt != null)
                .OrderBy(f => f.CreatedAt).ThenBy(f => f.Id)
                .Select(f => new MfaFactorResponse(f.Id, f.Type, f.Name, f.CreatedAt, f.LastUsedAt))
                .ToListAsync(ct);
        }

        return (response, row.Version);
    }

    /// <summary>Direct groups, then every ancestor of them as INHERITED (a member of a child group is a member of its parents).</summary>
    public async Task<IReadOnlyList<UserGroupMembership>> GroupsAsync(string tenantId, string userId, CancellationToken ct)
    {
        var direct = new List<DirectGroup>();
        await foreach (var g in FindDirectGroups(db, tenantId, userId).WithCancellation(ct))
        {
            direct.Add(g);
        }

        return await WithAncestorsAsync(tenantId, direct, ct);
    }

    private async Task<IReadOnlyList<UserGroupMembership>> WithAncestorsAsync(string tenantId, List<DirectGroup> direct, CancellationToken ct)
    {
        if (direct.Count == 0)
        {
            return [];
        }

        var known = direct.ToDictionary(g => g.Id, g => (g.Name, g.ParentGroupId), StringComparer.Ordinal);
        var pending = direct.Select(g => g.ParentGroupId).OfType<string>().Where(id => !known.ContainsKey(id)).Distinct().ToList();
        while (pending.Count > 0)
        {
            var level = await db.Groups.AsNoTracking()
                .Where(g => g.TenantId == tenantId && pending.Contains(g.Id))
                .Select(g => new { g.Id, g.Name, g.ParentGroupId })
                .ToListAsync(ct);
            foreach (var g in level)
            {
                known[g.Id] = (g.Name, g.ParentGroupId);
            }

            pending = level.Select(g => g.ParentGroupId).OfType<string>().Where(id => !known.ContainsKey(id)).Distinct().ToList();
        }

        var directIds = direct.Select(g => g.Id).ToHashSet(StringComparer.Ordinal);
        var inherited = new HashSet<string>(StringComparer.Ordinal);
        foreach (var g in direct)
        {
            for (var parent = g.ParentGroupId; parent is not null && known.ContainsKey(parent) && inherited.Add(parent); parent = known[parent].ParentGroupId)
            {
            }
        }

        return direct.OrderBy(g => g.Name, StringComparer.Ordinal).Select(g => new UserGroupMembership(g.Id, g.Name, "DIRECT"))
            .Concat(inherited.Where(id => !directIds.Contains(id)).Select(id => new UserGroupMembership(id, known[id].Name, "INHERITED"))
                .OrderBy(m => m.Name, StringComparer.Ordinal))
            .ToList();
    }

    /// <summary>Resolves the ou_id/group_id list filters to subtrees; an id not in the tenant is a 422 on its parameter.</summary>
    public async Task<(List<string>? OuIds, List<string>? GroupIds)> ResolveTreesAsync(
        string tenantId, string? ouId, string? groupId, ValidationErrors errors, CancellationToken ct)
    {
        List<string>? ouIds = null, groupIds = null;
        if (ouId is not null && (ouIds = await Hierarchy.OuSubtreeAsync(db, tenantId, ouId, ct)) is null)
        {
            errors.ValueError(["query", "ou_id"], "organizational unit not found in this tenant");
        }

        if (groupId is not null && (groupIds = await Hierarchy.GroupSubtreeAsync(db, tenantId, groupId, ct)) is null)
        {
            errors.ValueError(["query", "group_id"], "group not found in this tenant");
        }

        return (ouIds, groupIds);
    }
}
