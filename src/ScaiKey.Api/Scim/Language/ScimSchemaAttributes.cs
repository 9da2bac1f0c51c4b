namespace ScaiKey.Api.Scim.Language;

// The attribute lists of RFC 7643 §8.7.1 (User, Group) and §8.7.2 (Enterprise User), with the characteristics the
// RFC gives each one; where §4 and §8.7 disagree (Group.displayName's "required"), §4's prose wins.
internal static partial class ScimSchemas
{
    private const ScimAttributeType Str = ScimAttributeType.String;
    private const ScimAttributeType Bool = ScimAttributeType.Boolean;
    private const ScimAttributeType Ref = ScimAttributeType.Reference;
    private const ScimAttributeType Cpx = ScimAttributeType.Complex;
    private const ScimMutability ReadOnly = ScimMutability.ReadOnly;

    private static ScimAttribute Text(string name, string description, bool caseExact = false) =>
        new(name, Str, CaseExact: caseExact, Description: description);

    // The usual value/display/type/primary quadruple of multi-valued attributes (emails, phoneNumbers, ims, ...).
    private static ScimAttribute MultiValued(string name, string description, ScimAttribute value, IReadOnlyList<string>? types) =>
        new(name, Cpx, MultiValued: true, Description: description, SubAttributes:
        [
            value,
            Text("display", "A human-readable name, primarily used for display purposes."),
            new("type", Str, Description: "A label indicating the attribute's function.", CanonicalValues: types),
            new("primary", Bool, Description: "A Boolean value indicating the 'primary' or preferred attribute value for this attribute."),
        ]);

    private static IReadOnlyList<ScimAttribute> UserAttributes() =>
    [
        new("userName", Str, Required: true, Uniqueness: "server",
            Description: "Unique identifier for the User, typically used by the user to directly authenticate to the service provider."),
        new("name", Cpx, Description: "The components of the user's real name.", SubAttributes:
        [
            Text("formatted", "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display."),
            Text("familyName", "The family name of the User."),
            Text("givenName", "The given name of the User."),
            Text("middleName", "The middle name(s) of the User."),
            Text("honorificPrefix", "The honorific prefix(es) of the User."),
            Text("honorificSuffix", "The honorific suffix(es) of the User."),
        ]),
        Text("displayName", "The name of the User, suitable for display to end-users."),
        Text("nickName", "The casual way to address the user in real life."),
        new("profileUrl", Ref, Description: "A fully qualified URL pointing to a page representing the User's online profile.", ReferenceTypes: ["external"]),
        Text("title", "The user's title, such as \"Vice President\"."),
        Text("userType", "Used to identify the relationship between the organization and the user."),
        Text("preferredLanguage", "Indicates the User's preferred written or spoken language."),
        Text("locale", "Used to indicate the User's default location for purposes of localizing items."),
        Text("timezone", "The User's time zone in the 'Olson' time zone database format."),
        new("active", Bool, Description: "A Boolean value indicating the User's administrative status."),
        new("password", Str, Mutability: ScimMutability.WriteOnly, Returned: ScimReturned.Never, Description: "The User's cleartext password."),
        MultiValued("emails", "Email addresses for the user.",
            Text("value", "Email addresses for the user."), ["work", "home", "other"]),
        MultiValued("phoneNumbers", "Phone numbers for the User.",
            Text("value", "Phone number of the User."), ["work", "home", "mobile", "fax", "pager", "other"]),
        MultiValued("ims", "Instant messaging addresses for the User.",
            Text("value", "Instant messaging address for the User."), ["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
        MultiValued("photos", "URLs of photos of the User.",
            new("value", Ref, Description: "URL of a photo of the User.", ReferenceTypes: ["external"]), ["photo", "thumbnail"]),
        new("addresses", Cpx, MultiValued: true, Description: "A physical mailing address for this User.", SubAttributes:
        [
            Text("formatted", "The full mailing address, formatted for display or use with a mailing label."),
            Text("streetAddress", "The full street address component."),
            Text("locality", "The city or locality component."),
            Text("region", "The state or region component."),
            Text("postalCode", "The zip code or postal code component."),
            Text("country", "The country name component."),
            new("type", Str, Description: "A label indicating the attribute's function.", CanonicalValues: ["work", "home", "other"]),
            new("primary", Bool, Description: "A Boolean value indicating the 'primary' or preferred attribute value for this attribute."),
        ]),
        new("groups", Cpx, MultiValued: true, Mutability: ReadOnly, Description: "A list of groups to which the user belongs.", SubAttributes:
        [
            new("value", Str, Mutability: ReadOnly, Description: "The identifier of the User's group."),
            new("$ref", Ref, Mutability: ReadOnly, Description: "The URI of the corresponding 'Group' resource.", ReferenceTypes: ["User", "Group"]),
            new("display", Str, Mutability: ReadOnly, Description: "A human-readable name, primarily used for display purposes."),
            new("type", Str, Mutability: ReadOnly, Description: "A label indicating the attribute's function.", CanonicalValues: ["direct", "indirect"]),
        ]),
        MultiValued("entitlements", "A list of entitlements for the User.", Text("value", "The value of an entitlement."), null),
        MultiValued("roles", "A list of roles for the User.", Text("value", "The value of a role."), null),
        MultiValued("x509Certificates", "A list of certificates issued to the User.",
            new("value", ScimAttributeType.Binary, Description: "The value of an X.509 certificate."), null),
    ];

    private static IReadOnlyList<ScimAttribute> EnterpriseAttributes() =>
    [
        Text("employeeNumber", "Numeric or alphanumeric identifier assigned to a person."),
        Text("costCenter", "Identifies the name of a cost center."),
        Text("organization", "Identifies the name of an organization."),
        Text("division", "Identifies the name of a division."),
        Text("department", "Identifies the name of a department."),
        new("manager", Cpx, Description: "The User's manager.", SubAttributes:
        [
            Text("value", "The id of the SCIM resource representing the User's manager."),
            new("$ref", Ref, Description: "The URI of the SCIM resource representing the User's manager.", ReferenceTypes: ["User"]),
            new("displayName", Str, Mutability: ReadOnly, Description: "The displayName of the User's manager."),
        ]),
    ];

    private static IReadOnlyList<ScimAttribute> GroupAttributes() =>
    [
        new("displayName", Str, Required: true, Description: "A human-readable name for the Group."),
        new("members", Cpx, MultiValued: true, Description: "A list of members of the Group.", SubAttributes:
        [
            new("value", Str, Mutability: ScimMutability.Immutable, Description: "Identifier of the member of this Group."),
            new("$ref", Ref, Mutability: ScimMutability.Immutable, Description: "The URI corresponding to a SCIM resource that is a member of this Group.",
                ReferenceTypes: ["User", "Group"]),
            new("type", Str, Mutability: ScimMutability.Immutable, Description: "A label indicating the type of resource, e.g., 'User' or 'Group'.",
                CanonicalValues: ["User", "Group"]),
            new("display", Str, Mutability: ReadOnly, Description: "A human-readable name, primarily used for display purposes."),
        ]),
    ];
}
