package org.keycloakduobridge;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;

/**
 * What the Python side wrote into realm attributes, with a client realm falling back to its
 * partner realm for anything it does not set. No policy of its own.
 */
final class RealmSettings {

    final boolean enabled;
    final boolean failOpen;
    final String remember;
    final String bridgeUrl;
    final String bridgeJwks;
    final String fingerprint;

    private RealmSettings(RealmModel realm, RealmModel partner) {
        this.enabled = "true".equals(get(realm, partner, Attributes.DUO_ENABLED));
        this.failOpen = "open".equals(get(realm, partner, Attributes.DUO_FAIL_MODE));
        String rememberValue = get(realm, partner, Attributes.DUO_REMEMBER);
        this.remember = rememberValue == null ? "session" : rememberValue;
        this.bridgeUrl = get(realm, partner, Attributes.BRIDGE_URL);
        this.bridgeJwks = get(realm, partner, Attributes.BRIDGE_JWKS);
        this.fingerprint = fingerprint(realm, partner);
    }

    static RealmSettings of(KeycloakSession session, RealmModel realm) {
        String partnerName = realm.getAttribute(Attributes.TENANT_PARTNER);
        RealmModel partner = null;
        if (partnerName != null && !partnerName.isEmpty() && !partnerName.equals(realm.getName())) {
            partner = session.realms().getRealmByName(partnerName);
        }
        return new RealmSettings(realm, partner);
    }

    private static String get(RealmModel realm, RealmModel partner, String name) {
        String value = realm.getAttribute(name);
        if ((value == null || value.isEmpty()) && partner != null) {
            value = partner.getAttribute(name);
        }
        return value == null || value.isEmpty() ? null : value;
    }

    /** A digest of every kdb.* attribute: the bridge re-reads its cache when this changes. */
    private static String fingerprint(RealmModel realm, RealmModel partner) {
        Map<String, String> all = new TreeMap<>();
        collect(all, "", realm);
        if (partner != null) {
            collect(all, "partner:", partner);
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

    private static void collect(Map<String, String> into, String prefix, RealmModel realm) {
        for (Map.Entry<String, String> entry : realm.getAttributes().entrySet()) {
            if (entry.getKey().startsWith(Attributes.PREFIX)) {
                into.put(prefix + entry.getKey(), entry.getValue());
            }
        }
    }
}
