package org.keycloakduobridge;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.OrganizationModel;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.sessions.AuthenticationSessionModel;
import org.keycloak.util.JsonSerialization;

/**
 * The realm's settings as the Python side resolved them ({@code kdb.resolved}), read verbatim.
 *
 * <p>One source of policy: this class holds no fallback or parsing rule of its own. The record
 * is used only when its fingerprint matches the attributes it was resolved from (the realm's
 * own {@code kdb.*} and its proven partner's, computed as in {@code admin/record.py}). When it
 * does not (an attribute edited by hand, or no record), the realm fails closed: every login
 * goes to the bridge, which resolves the live attributes and answers {@code skip} where Duo
 * does not apply; no bypass is accepted and no earlier pass is remembered.
 */
final class RealmSettings {

    private static final int VERSION = 1;
    static final String REMEMBER_SESSION = "session";
    static final String REMEMBER_WINDOW = "window";
    static final String REMEMBER_EVERY_LOGIN = "every-login";
    static final String ASSURANCE_STEP_UP = "step-up";

    /** The record matches the attributes, so its values hold. */
    final boolean current;
    final boolean enabled;
    final Set<String> appsOff;
    /** Applications whose mode is "required": in "step-up", Duo at every login to them too. */
    final Set<String> appsRequired;
    final boolean failOpen;
    final String remember;
    final long rememberSeconds;
    final String bridgeUrl;
    final String bridgeJwks;
    final String fingerprint;
    /** The "step-up" mode: Duo runs where the browser flow's level of authentication asks. */
    final boolean stepUp;
    /** The {@code acr} a session gets once Duo passed with a second factor, and without. */
    final String acrDuo;
    final String acrBase;
    /** Identity providers trusted for their own MFA: an "upstream" verdict needs one. */
    final Set<String> idpTrusted;
    /** A member's client organization: its settings (its own record), id and fingerprint. */
    final RealmSettings member;
    final String organizationId;
    /**
     * Every client organization the user is a member of (the selected one included), by id:
     * each one's policy applies, whichever Keycloak selected for the login.
     */
    final Map<String, RealmSettings> organizations;
    /** A member of several client organizations, none selected: the login is refused. */
    final boolean ambiguousOrganization;

    private RealmSettings(Map<String, Object> record, boolean current, String fingerprint) {
        this.current = current;
        this.fingerprint = fingerprint;
        Map<String, Object> values = record == null ? Collections.emptyMap() : record;
        this.bridgeUrl = text(values.get("bridge_url"));
        this.bridgeJwks = text(values.get("bridge_jwks"));
        if (current) {
            this.enabled = Boolean.TRUE.equals(values.get("enabled"));
            this.appsOff = strings(values.get("apps_off"));
            this.appsRequired = strings(values.get("apps_required"));
            this.failOpen = Boolean.TRUE.equals(values.get("fail_open"));
            String rememberValue = text(values.get("remember"));
            this.remember = rememberValue == null ? REMEMBER_EVERY_LOGIN : rememberValue;
            Object seconds = values.get("remember_seconds");
            this.rememberSeconds = seconds instanceof Number ? ((Number) seconds).longValue() : 0L;
            this.stepUp = ASSURANCE_STEP_UP.equals(values.get("assurance"));
            this.acrDuo = text(values.get("acr_duo"));
            this.acrBase = text(values.get("acr_base"));
            this.idpTrusted = strings(values.get("idp_trusted"));
        } else {
            this.enabled = true;
            this.appsOff = Collections.emptySet();
            this.appsRequired = Collections.emptySet();
            this.failOpen = false;
            this.remember = REMEMBER_EVERY_LOGIN;
            this.rememberSeconds = 0L;
            this.stepUp = false;
            this.acrDuo = null;
            this.acrBase = null;
            this.idpTrusted = Collections.emptySet();
        }
        this.member = null;
        this.organizationId = null;
        this.organizations = Collections.emptyMap();
        this.ambiguousOrganization = false;
    }

    /**
     * The realm's settings for a member of client organizations ({@code organizations}: each
     * one's record by id; {@code organizationId}: the one selected for the login, whose Duo
     * integration it uses, null with {@code ambiguous}). Membership never lowers what the
     * realm or any of the user's organizations requires: Duo runs when the realm's or any
     * organization's settings say so, a bypass passes only when all of them fail open, and a
     * pass is remembered only as long as all of them allow. Which organization Keycloak
     * selected (the user's choice on its selection page) changes none of that.
     */
    private RealmSettings(RealmSettings realm, Map<String, RealmSettings> organizations,
            String organizationId, boolean ambiguous) {
        RealmSettings selected = organizationId == null ? null : organizations.get(organizationId);
        boolean allCurrent = realm.current;
        boolean allFailOpen = realm.failOpen && selected != null;
        RealmSettings strictest = realm;
        for (RealmSettings each : organizations.values()) {
            allCurrent &= each.current;
            allFailOpen &= each.failOpen;
            if (rank(each) > rank(strictest)) {
                strictest = each;
            }
        }
        this.current = allCurrent;
        this.fingerprint = realm.fingerprint;
        this.bridgeUrl = realm.bridgeUrl;
        this.bridgeJwks = realm.bridgeJwks;
        this.enabled = realm.enabled;
        this.appsOff = realm.appsOff;
        this.appsRequired = realm.appsRequired;
        this.failOpen = allFailOpen;
        this.stepUp = realm.stepUp;
        this.acrDuo = realm.acrDuo;
        this.acrBase = realm.acrBase;
        this.idpTrusted = realm.idpTrusted;
        this.member = selected;
        this.organizationId = selected == null ? null : organizationId;
        this.organizations = organizations;
        this.ambiguousOrganization = ambiguous;
        this.remember = selected == null ? REMEMBER_EVERY_LOGIN : strictest.remember;
        this.rememberSeconds = selected == null ? 0L : strictest.rememberSeconds;
    }

    /** How strict a remember setting is: every login, then a window, then the session. */
    private static long rank(RealmSettings settings) {
        if (REMEMBER_SESSION.equals(settings.remember)) {
            return 0L;
        }
        if (REMEMBER_WINDOW.equals(settings.remember)) {
            return Long.MAX_VALUE / 2 - settings.rememberSeconds;
        }
        return Long.MAX_VALUE;
    }

    /**
     * The settings of a login: the realm's, or, for a member of client organizations
     * ({@link Membership}, from Keycloak's state), the realm's combined with every one of
     * those organizations' records.
     */
    static RealmSettings forLogin(KeycloakSession session, RealmModel realm, UserModel user,
            AuthenticationSessionModel authSession) {
        RealmSettings own = of(session, realm);
        Membership membership = Membership.of(session, realm, user, authSession);
        if (membership.all.isEmpty()) {
            return own;
        }
        Map<String, RealmSettings> organizations = new TreeMap<>();
        for (OrganizationModel organization : membership.all) {
            organizations.put(organization.getId(), ofOrganization(realm, organization));
        }
        return new RealmSettings(own, organizations,
                membership.organization == null ? null : membership.organization.getId(),
                membership.ambiguous);
    }

    /** A client organization's record, current when it matches its and its realm's attributes. */
    static RealmSettings ofOrganization(RealmModel realm, OrganizationModel organization) {
        Map<String, String> own = new TreeMap<>();
        for (Map.Entry<String, List<String>> entry : organization.getAttributes().entrySet()) {
            String value = Membership.first(organization.getAttributes(), entry.getKey());
            if (value != null) {
                own.put(entry.getKey(), value);
            }
        }
        Map<String, Object> record = read(own.get(Attributes.RESOLVED));
        String fingerprint = fingerprint(own, realm.getAttributes(), null);
        boolean current = record != null
                && Integer.valueOf(VERSION).equals(record.get("v"))
                && fingerprint.equals(record.get("cfg"));
        return new RealmSettings(record, current, fingerprint);
    }

    static RealmSettings of(KeycloakSession session, RealmModel realm) {
        Map<String, Object> record = read(realm.getAttribute(Attributes.RESOLVED));
        String partnerName = record == null ? null : text(record.get("partner"));
        RealmModel partner = partnerName == null ? null : session.realms().getRealmByName(partnerName);
        String fingerprint = fingerprint(realm, partner);
        boolean current = record != null
                && Integer.valueOf(VERSION).equals(record.get("v"))
                && fingerprint.equals(record.get("cfg"));
        return new RealmSettings(record, current, fingerprint);
    }

    /**
     * Whether the required action sends a login to this application to the bridge: in
     * "enforce", every application but those Duo is off for; in "step-up", where the flow's
     * levels decide, only those whose mode is "required". A brokered login never reaches the
     * flow's levels (the identity provider redirector ends the flow), so in "step-up" it is
     * sent as in "enforce": the realm's Duo decision holds for it as for a local login.
     */
    boolean triggers(String clientId, boolean brokered) {
        if (ambiguousOrganization) {
            return true;
        }
        for (RealmSettings organization : organizations.values()) {
            if (organization.triggersIn(stepUp, clientId, brokered)) {
                return true;
            }
        }
        return triggersIn(stepUp, clientId, brokered);
    }

    /**
     * Whether these settings send the login on under the realm's assurance mode: a client
     * organization's record follows the realm's mode (the flows are the realm's), so in
     * "step-up" its members meet Duo at the flow's level 2 or where an application requires it.
     */
    private boolean triggersIn(boolean stepUpMode, String clientId, boolean brokered) {
        if (stepUpMode && !brokered) {
            return enabled && clientId != null && appsRequired.contains(clientId);
        }
        return enabled && (clientId == null || !appsOff.contains(clientId));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> read(String json) {
        if (json == null || json.isEmpty()) {
            return null;
        }
        try {
            Object value = JsonSerialization.readValue(json, Map.class);
            return value instanceof Map ? (Map<String, Object>) value : null;
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    private static String text(Object value) {
        return value instanceof String && !((String) value).isEmpty() ? (String) value : null;
    }

    private static Set<String> strings(Object value) {
        Set<String> out = new HashSet<>();
        if (value instanceof List) {
            for (Object item : (List<?>) value) {
                if (item instanceof String) {
                    out.add((String) item);
                }
            }
        }
        return out;
    }

    /**
     * SHA-256 (base64url) over sorted {@code name=value} lines: the realm's {@code kdb.*}
     * attributes but the record, then the partner's as {@code partner:name}, but its record
     * and its links to other clients. The same function as {@code record.fingerprint}.
     */
    static String fingerprint(RealmModel realm, RealmModel partner) {
        return fingerprint(realm.getAttributes(), partner == null ? null : partner.getAttributes(),
                Attributes.TENANT_CLIENT_PREFIX + realm.getName());
    }

    /**
     * The same over attribute maps; {@code mine}: the one link to a client realm that counts
     * (null: none, for a client organization's record, as {@code record.organization_fingerprint}).
     */
    static String fingerprint(Map<String, String> own, Map<String, String> partner, String mine) {
        Map<String, String> all = new TreeMap<>();
        for (Map.Entry<String, String> entry : own.entrySet()) {
            String name = entry.getKey();
            if (name.startsWith(Attributes.PREFIX) && !name.equals(Attributes.RESOLVED)) {
                all.put(name, entry.getValue());
            }
        }
        if (partner != null) {
            for (Map.Entry<String, String> entry : partner.entrySet()) {
                String name = entry.getKey();
                if (!name.startsWith(Attributes.PREFIX) || name.equals(Attributes.RESOLVED)) {
                    continue;
                }
                if (name.startsWith(Attributes.TENANT_CLIENT_PREFIX) && !name.equals(mine)) {
                    continue;
                }
                all.put("partner:" + name, entry.getValue());
            }
        }
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, String> entry : all.entrySet()) {
                digest.update((entry.getKey() + "=" + entry.getValue() + "\n")
                        .getBytes(StandardCharsets.UTF_8));
            }
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
