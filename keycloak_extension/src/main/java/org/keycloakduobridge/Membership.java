package org.keycloakduobridge;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.OrganizationModel;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.organization.OrganizationProvider;
import org.keycloak.sessions.AuthenticationSessionModel;

/**
 * The client organization a login's user belongs to, from Keycloak's own state only: its
 * organization membership ({@link OrganizationProvider#getByMember}) and, for a member of
 * several, the organization Keycloak selected for this login ({@link #selected}, honoured
 * only for one the user is a member of). Never the user's or a client's attributes. A member of several client organizations
 * with none selected is ambiguous: the login is refused, no organization is picked silently.
 *
 * <p>The selection picks only whose Duo integration the login uses. Every client organization
 * the user is a member of is kept ({@link #all}): its policy applies too, so a member of a
 * strict and a lax organization cannot choose the lax one to escape the strict one's Duo.
 */
final class Membership {

    static final String CLIENT = "client";
    static final Membership NONE = new Membership(null, List.of(), false);

    /** The user's client organization, or null (none, or ambiguous). */
    final OrganizationModel organization;
    /** Every client organization the user is a member of, the selected one included. */
    final List<OrganizationModel> all;
    final boolean ambiguous;

    private Membership(OrganizationModel organization, List<OrganizationModel> all,
            boolean ambiguous) {
        this.organization = organization;
        this.all = all;
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
            return new Membership(clients.get(0), clients, false);
        }
        String selected = selected(session, realm, user, authSession);
        for (OrganizationModel org : clients) {
            if (org.getId().equals(selected)) {
                return new Membership(org, clients, false);
            }
        }
        return new Membership(null, clients, true);
    }

    /**
     * The organization selected for this login, from Keycloak's state: the one its selection
     * page or its discovery resolved (its auth and client notes), or, for a login that
     * continues an SSO session (where Keycloak asks no one again), the one that session's last
     * Duo pass used (our own user-session note, which no identity-provider mapper can carry
     * in: {@link ForeignNotes}). It picks only the integration; every membership's policy
     * applies whichever it is.
     */
    private static String selected(KeycloakSession session, RealmModel realm, UserModel user,
            AuthenticationSessionModel authSession) {
        if (authSession == null) {
            return null;
        }
        String selected = authSession.getAuthNote(OrganizationModel.ORGANIZATION_ATTRIBUTE);
        if (selected == null) {
            selected = authSession.getClientNote(OrganizationModel.ORGANIZATION_ATTRIBUTE);
        }
        if (selected == null) {
            selected = authSession.getAuthNote(Attributes.AUTH_ORGANIZATION);
        }
        if (selected != null) {
            return selected;
        }
        UserSessionModel sso = session.getContext().getUserSession();
        if (sso == null || sso.getUser() == null || sso.getRealm() == null
                || !realm.getId().equals(sso.getRealm().getId())
                || !user.getId().equals(sso.getUser().getId())) {
            return null;
        }
        selected = sso.getNote(Attributes.NOTE_ORGANIZATION);
        if (selected != null) { // the challenge and the return from the bridge come later
            authSession.setAuthNote(Attributes.AUTH_ORGANIZATION, selected);
        }
        return selected;
    }

    /** The first value of a multi-valued attribute, or null. */
    static String first(Map<String, List<String>> attributes, String name) {
        List<String> values = attributes == null ? null : attributes.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }
}
