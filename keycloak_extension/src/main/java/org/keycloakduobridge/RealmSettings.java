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
import org.keycloak.models.RealmModel;
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
        if (stepUp && !brokered) {
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
        Map<String, String> all = new TreeMap<>();
        for (Map.Entry<String, String> entry : realm.getAttributes().entrySet()) {
            String name = entry.getKey();
            if (name.startsWith(Attributes.PREFIX) && !name.equals(Attributes.RESOLVED)) {
                all.put(name, entry.getValue());
            }
        }
        if (partner != null) {
            String mine = Attributes.TENANT_CLIENT_PREFIX + realm.getName();
            for (Map.Entry<String, String> entry : partner.getAttributes().entrySet()) {
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
