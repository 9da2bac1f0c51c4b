using System.ComponentModel;
using ScaiKey.Data.Entities;

namespace ScaiKey.Api.Groups;

[Description("Create or update a group; parent_group_id nests it (members of a child group are inherited members of its parents).")]
internal sealed record GroupRequest(string Name, string? Description, string? ParentGroupId);

[Description("A group of users.")]
internal sealed record GroupResponse(string Id, string Name, string? Description, string? ParentGroupId, DateTime CreatedAt, DateTime? UpdatedAt);

[Description("Users to add to a group.")]
internal sealed record GroupMembersAdd(IReadOnlyList<string> UserIds);

[Description("Outcome of adding members.")]
internal sealed record GroupMembersAddResponse(IReadOnlyList<string> Added, IReadOnlyList<string> AlreadyMembers);

[Description("A member of a group: DIRECT, or INHERITED through a nested group.")]
internal sealed record GroupMemberResponse(string UserId, string Email, string? DisplayName, UserStatus Status, string MembershipType);
