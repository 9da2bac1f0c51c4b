namespace ScaiKey.Data;

/// <summary>
/// The rule of the LiveMemberships migration: memberships belong to live users only. On PostgreSQL its trigger refuses
/// a membership of a deleted user with SQLSTATE 23503 (a foreign key violation, which it stands for); SQLite's
/// RAISE cannot choose the code, so the API recognises its refusal by this message.
/// </summary>
public static class MembershipRules
{
    public const string DeletedUserRefusal = "group_members: the user is deleted";
}
