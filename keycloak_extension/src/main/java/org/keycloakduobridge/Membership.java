package org.keycloakduobridge;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.OrganizationModel;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.organization.OrganizationProvider;
import org.keycloak.sessions.AuthenticationSessionModel;

/**
 * The client organization a login's user belongs to, from Keycloak's own state only: its
 * organization membership ({@link OrganizationProvider#getByMember}) and, for a member of
 * several, the organization Keycloak selected for this login (its auth-session note
 * {@link OrganizationModel#ORGANIZATION_ATTRIBUTE}, honoured only for one the user is a member
 * of). Never the user's or a client's attributes. A member of several client organizations
 * with none selected is ambiguous: the login is refused, no organization is picked silently.
 */
final class Membership {

    static final String CLIENT = "client";
    static final Membership NONE = new Membership(null, false);

    /** The user's client organization, or null (none, or ambiguous). */
    final OrganizationModel organization;
    final boolean ambiguous;

    private Membership(OrganizationModel organization, boolean ambiguous) {
        this.organization = organization;
        this.ambiguous = ambiguous;
    }

    static Membership of(KeycloakSession session, RealmModel realm, UserModel user,
            AuthenticationSessionModel authSession) {
        if (user == null || !realm.isOrganizationsEnabled()) {
            return NONE;
        }
        OrganizationProvider provider = session.getProvider(OrganizationProvider.class);
        if (provider == null || !provider.isEnabled()) {
            return NONE;
        }
        List<OrganizationModel> clients = provider.getByMember(user)
                .filter(org -> CLIENT.equals(first(org.getAttributes(), Attributes.TENANT_KIND)))
                .collect(Collectors.toList());
        if (clients.isEmpty()) {
            return NONE;
        }
        if (clients.size() == 1) {
            return new Membership(clients.get(0), false);
        }
        String selected = authSession == null ? null
                : authSession.getAuthNote(OrganizationModel.ORGANIZATION_ATTRIBUTE);
        for (OrganizationModel org : clients) {
            if (org.getId().equals(selected)) {
                return new Membership(org, false);
            }
        }
        return new Membership(null, true);
    }

    /** The first value of a multi-valued attribute, or null. */
    static String first(Map<String, List<String>> attributes, String name) {
        List<String> values = attributes == null ? null : attributes.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }
}
