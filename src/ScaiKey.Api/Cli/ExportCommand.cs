using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using ScaiKey.Api.Http;
using ScaiKey.Api.Users;
using ScaiKey.Data;

namespace ScaiKey.Api.Cli;

/// <summary>
/// `scaikey export`: a tenant's live users as JSON Lines of the API's UserResponse (groups with inherited ones, as
/// GET returns them; never password hashes), read in pages keyed by id without tracking, so memory stays flat.
/// </summary>
internal static class ExportCommand
{
    private const int PageSize = 5000;

    public static async Task<int> RunAsync(CliArgs args, IServiceProvider services, CliConsole console, CancellationToken ct)
    {
        var tenantArg = args.RequiredString("tenant");
        var output = args.String("output");
        args.RejectUnknown(maxPositional: 0);

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ScaiKeyDbContext>();
        var tenant = await CliTenants.FindAsync(db, tenantArg, ct);
        var tenantId = tenant.Id;

        var ouPaths = await db.OrganizationalUnits.AsNoTracking().Where(o => o.TenantId == tenantId)
            .ToDictionaryAsync(o => o.Id, o => o.Path, StringComparer.Ordinal, ct);
        var groups = await db.Groups.AsNoTracking().Where(g => g.TenantId == tenantId)
            .ToDictionaryAsync(g => g.Id, g => (g.Name, g.ParentGroupId), StringComparer.Ordinal, ct);
        var total = await db.Users.CountAsync(u => u.TenantId == tenantId && u.DeletedAt == null, ct);
        var progress = new ProgressBar(console, "export", total);

        await using var file = output is null ? null : new FileStream(Path.GetFullPath(output), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        var writer = file is null ? console.Out : new StreamWriter(file, new UTF8Encoding(false), 1 << 16);
        try
        {
            var done = 0L;
            string? after = null;
            while (true)
            {
                var page = await db.Users.AsNoTracking()
                    .Where(u => u.TenantId == tenantId && u.DeletedAt == null && (after == null || string.Compare(u.Id, after) > 0))
                    .OrderBy(u => u.Id)
                    .Take(PageSize)
                    .Select(u => new
                    {
                        u.Id, u.Email, u.Username, u.FirstName, u.LastName, u.DisplayName, u.Phone, u.Locale, u.Timezone, u.EmailVerified,
                        u.AvatarUrl, u.OuId, u.Status, u.IdentitySource, u.MfaEnabled, u.CustomAttributesJson, u.CreatedAt, u.UpdatedAt,
                        u.LastLoginAt, u.PasswordChangedAt,
                    })
                    .ToListAsync(ct);
                if (page.Count == 0)
                {
                    break;
                }

                var (first, last) = (page[0].Id, page[^1].Id);
                var memberships = (await db.GroupMembers.AsNoTracking()
                        .Where(m => m.TenantId == tenantId && string.Compare(m.UserId, first) >= 0 && string.Compare(m.UserId, last) <= 0)
                        .Select(m => new { m.UserId, m.GroupId })
                        .ToListAsync(ct))
                    .ToLookup(m => m.UserId, m => m.GroupId, StringComparer.Ordinal);

                foreach (var u in page)
                {
                    var response = new UserResponse
                    {
                        Email = u.Email, Username = u.Username, FirstName = u.FirstName, LastName = u.LastName, DisplayName = u.DisplayName,
                        Phone = u.Phone, Locale = u.Locale, Timezone = u.Timezone, Id = u.Id, EmailVerified = u.EmailVerified,
                        AvatarUrl = u.AvatarUrl, OuId = u.OuId, OuPath = u.OuId is null ? null : ouPaths.GetValueOrDefault(u.OuId),
                        Status = u.Status, IdentitySource = u.IdentitySource, MfaEnabled = u.MfaEnabled,
                        Groups = Memberships(memberships[u.Id], groups),
                        CustomAttributes = UserInput.ParseAttributes(u.CustomAttributesJson), CreatedAt = u.CreatedAt,
                        UpdatedAt = u.UpdatedAt, LastLoginAt = u.LastLoginAt, PasswordChangedAt = u.PasswordChangedAt,
                    };
                    await writer.WriteAsync(JsonSerializer.Serialize(response, ApiJson.Options));
                    await writer.WriteAsync('\n');
                }

                done += page.Count;
                after = last;
                progress.Report(done);
            }

            progress.Finish();
        }
        finally
        {
            await writer.FlushAsync(ct);
            if (file is not null)
            {
                await writer.DisposeAsync();
            }
        }

        return CliRunner.Success;
    }

    /// <summary>As UserReads.GroupsAsync: direct groups by name, then their ancestors as INHERITED, by name.</summary>
    private static List<UserGroupMembership> Memberships(IEnumerable<string> directIds, Dictionary<string, (string Name, string? ParentGroupId)> groups)
    {
        var direct = directIds.Where(groups.ContainsKey).ToHashSet(StringComparer.Ordinal);
        if (direct.Count == 0)
        {
            return [];
        }

        var inherited = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in direct)
        {
            for (var parent = groups[id].ParentGroupId; parent is not null && groups.ContainsKey(parent) && inherited.Add(parent); parent = groups[parent].ParentGroupId)
            {
            }
        }

        return direct.Select(id => new UserGroupMembership(id, groups[id].Name, "DIRECT")).OrderBy(m => m.Name, StringComparer.Ordinal)
            .Concat(inherited.Where(id => !direct.Contains(id)).Select(id => new UserGroupMembership(id, groups[id].Name, "INHERITED"))
                .OrderBy(m => m.Name, StringComparer.Ordinal))
            .ToList();
    }
}
