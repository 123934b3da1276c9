package org.keycloakduobridge;

import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.keycloak.TokenVerifier;
import org.keycloak.common.VerificationException;
import org.keycloak.crypto.Algorithm;
import org.keycloak.crypto.ECDSASignatureVerifierContext;
import org.keycloak.crypto.KeyType;
import org.keycloak.crypto.KeyWrapper;
import org.keycloak.jose.jwk.JSONWebKeySet;
import org.keycloak.jose.jwk.JWK;
import org.keycloak.jose.jwk.JWKParser;
import org.keycloak.jose.jws.JWSHeader;
import org.keycloak.jose.jws.JWSInput;
import org.keycloak.jose.jws.JWSInputException;
import org.keycloak.representations.JsonWebToken;
import org.keycloak.util.JsonSerialization;

/** A verified verdict from the bridge: ES256, signed by a key published on the realm. */
final class Verdict {

    static final String TYPE = "kdb-step-up-verdict";
    /** A CIBA login's verdict: it reaches Keycloak in the channel's callback, not a browser. */
    static final String CIBA_TYPE = "kdb-ciba-verdict";
    private static final int MAX_LENGTH = 8192;

    final String result;
    final String reason;
    final String factor;
    final String txid;
    final long authTime;
    /** RFC 8176 method references the bridge derived from Duo's factor; empty without one. */
    final List<String> amr;
    /** The client a CIBA verdict is for ({@code azp}); null in a step-up verdict. */
    final String issuedFor;
    /** An "upstream" verdict: the identity provider whose MFA counted, and the proof. */
    final String idp;
    final String proof;

    private Verdict(Map<String, Object> claims, String issuedFor) {
        this.issuedFor = issuedFor;
        this.result = text(claims, "result");
        this.reason = text(claims, "reason");
        this.factor = text(claims, "factor");
        this.txid = text(claims, "txid");
        this.idp = text(claims, "idp");
        this.proof = text(claims, "proof");
        Object time = claims.get("auth_time");
        this.authTime = time instanceof Number ? ((Number) time).longValue() : 0L;
        List<String> methods = new ArrayList<>();
        Object listed = claims.get("amr");
        if (listed instanceof List) {
            for (Object item : (List<?>) listed) {
                if (item instanceof String && ((String) item).matches("[a-z]{1,16}")) {
                    methods.add((String) item);
                }
            }
        }
        this.amr = Collections.unmodifiableList(methods);
    }

    private static String text(Map<String, Object> claims, String name) {
        Object value = claims.get(name);
        return value == null ? "" : String.valueOf(value);
    }

    /**
     * Verify {@code token}: signature by a key in {@code jwksJson}, audience, subject, nonce,
     * expiry and type. Throws {@link VerificationException} with a short reason otherwise.
     */
    static Verdict verify(String token, String jwksJson, String audience, String subject,
            String nonce, long now) throws VerificationException {
        return verify(token, jwksJson, TYPE, audience, subject, nonce, true, now);
    }

    /**
     * Verify a CIBA verdict: as {@link #verify}, with no nonce (Keycloak keeps none for a
     * CIBA login) but addressed to {@code clientId} ({@code azp}) instead.
     */
    static Verdict verifyCiba(String token, String jwksJson, String audience, String subject,
            String clientId, long now) throws VerificationException {
        Verdict verdict = verify(token, jwksJson, CIBA_TYPE, audience, subject, null, false, now);
        if (clientId == null || !clientId.equals(verdict.issuedFor)) {
            throw new VerificationException("verdict for another client");
        }
        return verdict;
    }

    private static Verdict verify(String token, String jwksJson, String type, String audience,
            String subject, String nonce, boolean checkNonce, long now)
            throws VerificationException {
        if (token == null || token.isEmpty()) {
            throw new VerificationException("no verdict");
        }
        if (token.length() > MAX_LENGTH) {
            throw new VerificationException("verdict too large");
        }
        if (jwksJson == null || jwksJson.isEmpty()) {
            throw new VerificationException("the realm has no bridge keys");
        }
        JWSHeader header;
        try {
            header = new JWSInput(token).getHeader();
        } catch (JWSInputException e) {
            throw new VerificationException("malformed verdict");
        }
        if (header.getAlgorithm() == null || !Algorithm.ES256.equals(header.getAlgorithm().name())) {
            throw new VerificationException("verdict not signed ES256");
        }
        PublicKey key = findKey(jwksJson, header.getKeyId());
        KeyWrapper wrapper = new KeyWrapper();
        wrapper.setAlgorithm(Algorithm.ES256);
        wrapper.setType(KeyType.EC);
        wrapper.setKid(header.getKeyId());
        wrapper.setPublicKey(key);
        JsonWebToken jwt;
        try {
            jwt = TokenVerifier.create(token, JsonWebToken.class)
                    .verifierContext(new ECDSASignatureVerifierContext(wrapper))
                    .verify()
                    .getToken();
        } catch (VerificationException e) {
            throw new VerificationException("verdict signature does not verify");
        }
        Map<String, Object> claims = jwt.getOtherClaims();
        if (!type.equals(jwt.getType())) {
            throw new VerificationException("not a verdict");
        }
        if (!jwt.hasAudience(audience)) {
            throw new VerificationException("verdict for another realm");
        }
        if (subject == null || !subject.equals(jwt.getSubject())) {
            throw new VerificationException("verdict for another user");
        }
        if (checkNonce && (nonce == null || !constantTimeEquals(nonce, String.valueOf(claims.get("nonce"))))) {
            throw new VerificationException("verdict for another login");
        }
        if (jwt.getExp() == null || jwt.getExp() < now) {
            throw new VerificationException("verdict expired");
        }
        return new Verdict(claims, jwt.getIssuedFor());
    }

    private static PublicKey findKey(String jwksJson, String kid) throws VerificationException {
        JSONWebKeySet set;
        try {
            set = JsonSerialization.readValue(jwksJson, JSONWebKeySet.class);
        } catch (java.io.IOException e) {
            throw new VerificationException("the realm's bridge keys are unreadable");
        }
        if (set.getKeys() != null && kid != null) {
            for (JWK jwk : set.getKeys()) {
                if (kid.equals(jwk.getKeyId()) && KeyType.EC.equals(jwk.getKeyType())) {
                    return JWKParser.create(jwk).toPublicKey();
                }
            }
        }
        throw new VerificationException("verdict signed by an unknown key");
    }

    private static boolean constantTimeEquals(String a, String b) {
        return java.security.MessageDigest.isEqual(
                a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
