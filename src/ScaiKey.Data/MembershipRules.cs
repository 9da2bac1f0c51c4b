namespace ScaiKey.Data;

/// <summary>
/// The rule of the LiveMemberships migration: memberships belong to live users of their own tenant. On PostgreSQL its
/// trigger refuses any other with SQLSTATE 23503 (a foreign key violation, which it stands for); SQLite's
/// RAISE cannot choose the code, so the API recognises its refusal by this message.
/// </summary>
public static class MembershipRules
{
    public const string DeletedUserRefusal = "group_members: the user is deleted or not of the tenant";
}
