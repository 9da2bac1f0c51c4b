namespace ScaiKey.Api.AdminConsole.Components;

/// <summary>One node of an OU or group tree, with its children.</summary>
public sealed record TreeNode(string Id, string Label, string Href, string? Note, IReadOnlyList<TreeNode> Children);

/// <summary>Which directory pages and buttons the admin's roles reach in a tenant (the API's own answer).</summary>
public sealed record DirectoryAccess(string TenantId, IReadOnlySet<string> Permissions, bool CanManageRoles)
{
    public bool Can(string permission) => Permissions.Contains(permission);
}

/// <summary>A choice of a select field.</summary>
public sealed record Choice(string Value, string Label);
