package org.keycloakduobridge;

import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriBuilder;
import java.net.URI;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.keycloak.common.VerificationException;
import org.keycloak.common.util.Time;
import org.keycloak.events.EventBuilder;
import org.keycloak.events.EventType;
import org.keycloak.forms.login.LoginFormsProvider;
import org.keycloak.models.ClientModel;
import org.keycloak.models.GroupModel;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.sessions.AuthenticationSessionModel;

/**
 * The step-up itself, shared by the required action and the authenticator: hands the browser
 * to the bridge with a request token signed by the realm, and accepts only a verdict signed by
 * the bridge. It holds no policy of its own: it reads the settings the Python side resolved
 * for the realm ({@link RealmSettings}, verbatim).
 */
final class StepUp {

    static final String AUDIENCE = "kdb-bridge";
    private static final int REQUEST_LIFETIME_SECONDS = 300;
    /** The longest request token the bridge takes (its tokens.MAX_TOKEN_LENGTH). */
    static final int MAX_REQUEST_LENGTH = 8192;
    /** The refusal page: the reason, "Try again" and, when known, "Back to the application". */
    static final String REFUSED_TEMPLATE = "duo-refused.ftl";
    private static final SecureRandom RANDOM = new SecureRandom();

    private StepUp() {
    }

    /** Send the browser to the bridge (or refuse when the realm has no bridge). */
    static void start(StepUpContext context, RealmSettings settings) {
        RealmModel realm = context.realm();
        if (settings.bridgeUrl == null || settings.bridgeJwks == null) {
            refuse(context, "duo_not_configured", "the realm has no bridge URL or bridge keys",
                    "Two-factor authentication is not configured for this realm. "
                            + "Contact your administrator.");
            return;
        }
        if (settings.ambiguousOrganization) {
            refuse(context, "duo_organization_ambiguous",
                    "the user is a member of several client organizations and none is selected",
                    "Your account belongs to several organizations. Sign in again and choose "
                            + "one, or contact your administrator.");
            return;
        }
        AuthenticationSessionModel authSession = context.authSession();
        UserModel user = context.user();
        String nonce = random();
        authSession.setAuthNote(Attributes.AUTH_NONCE, nonce);
        URI returnUrl = context.returnUrl();

        StepUpToken token = new StepUpToken();
        token.id(random());
        token.type(StepUpToken.TYPE);
        token.issuer(issuer(context));
        token.audience(AUDIENCE);
        token.subject(user.getId());
        token.issuedNow();
        token.exp(now() + REQUEST_LIFETIME_SECONDS);
        ClientModel client = authSession.getClient();
        token.issuedFor(client == null ? null : client.getClientId());
        token.setOtherClaims("preferred_username", user.getUsername());
        token.setOtherClaims("nonce", nonce);
        token.setOtherClaims("return_url", returnUrl.toString());
        token.setOtherClaims("realm", realm.getName());
        token.setOtherClaims("cfg", settings.fingerprint);
        if (settings.member != null) { // the user's client organization, from Keycloak's state
            token.setOtherClaims("org", settings.organizationId);
            token.setOtherClaims("org_cfg", settings.member.fingerprint);
            // every client organization the user is a member of: each one's policy applies
            Map<String, String> organizations = new TreeMap<>();
            settings.organizations.forEach((id, each) -> organizations.put(id, each.fingerprint));
            token.setOtherClaims("orgs", organizations);
        }
        token.setOtherClaims("activated", "true".equals(user.getFirstAttribute(Attributes.USER_ACTIVATED)));
        // For a realm that names users to Duo by email: the bridge takes only a verified one.
        token.setOtherClaims("email", user.getEmail());
        token.setOtherClaims("email_verified", user.isEmailVerified());
        List<String> groups = user.getGroupsStream()
                .filter(group -> group.getType() == GroupModel.Type.REALM)
                .map(StepUp::groupPath)
                .collect(Collectors.toList());
        token.setOtherClaims("groups", groups);
        BrokeredIdentity.addClaims(token, context.session(), realm, user, authSession);
        String signed = context.session().tokens().encode(token);
        if (signed.length() > MAX_REQUEST_LENGTH) { // the bridge would refuse it as a bad link
            authSession.removeAuthNote(Attributes.AUTH_NONCE);
            refuse(context, "duo_request_too_large",
                    "the request token is " + signed.length() + " characters, over the bridge's "
                            + MAX_REQUEST_LENGTH,
                    "Sign-in cannot be completed: your account carries more than two-factor "
                            + "authentication accepts (for example, too many organizations). "
                            + "Contact your administrator.");
            return;
        }

        URI target = UriBuilder.fromUri(settings.bridgeUrl.replaceAll("/+$", ""))
                .path("step-up")
                .queryParam("request", signed)
                .build();
        context.challenge(Response.status(Response.Status.FOUND).location(target).build());
    }

    /** The browser is back from the bridge: verify its verdict and pass or refuse. */
    static void finish(StepUpContext context, RealmSettings settings) {
        AuthenticationSessionModel authSession = context.authSession();
        String nonce = authSession.getAuthNote(Attributes.AUTH_NONCE);
        authSession.removeAuthNote(Attributes.AUTH_NONCE); // single use: a replay finds no nonce
        Verdict verdict;
        try {
            verdict = Verdict.verify(verdictParameter(context), settings.bridgeJwks,
                    issuer(context), context.user().getId(), nonce, now());
        } catch (VerificationException e) {
            refuse(context, "duo_invalid_verdict", e.getMessage(),
                    "The two-factor result could not be verified. Please sign in again.");
            return;
        }
        switch (verdict.result) {
            case VerdictNames.RESULT_ALLOW:
            case VerdictNames.RESULT_SKIP:
                pass(context, verdict, settings);
                return;
            case VerdictNames.RESULT_BYPASS:
                if (settings.failOpen) {
                    pass(context, verdict, settings);
                } else {
                    refuse(context, "duo_bypass_refused", verdict.reason,
                            "Duo is unavailable, so sign-in cannot be completed. Try again later.");
                }
                return;
            case VerdictNames.RESULT_UPSTREAM:
                // Only for a login through an IdP the realm's record trusts for its MFA, and
                // the one this verdict names (Keycloak's own note of this login's IdP).
                String idp = BrokeredIdentity.loginIdp(authSession);
                if (idp != null && settings.idpTrusted.contains(idp) && idp.equals(verdict.idp)) {
                    pass(context, verdict, settings);
                } else {
                    refuse(context, "duo_upstream_refused", verdict.reason,
                            "The sign-in could not be completed. Please sign in again.");
                }
                return;
            case VerdictNames.RESULT_DENY:
                refuse(context, "duo_denied", verdict.reason, "Duo denied the sign-in.");
                return;
            default:
                refuseError(context, verdict.reason);
        }
    }

    /** An {@code error} verdict: a configuration fault, a protocol failure, or an outage. */
    private static void refuseError(StepUpContext context, String reason) {
        switch (reason) {
            case VerdictNames.REASON_DUO_CONFIG:
                refuse(context, "duo_config_fault", reason,
                        "Two-factor authentication is misconfigured for this realm. "
                                + "Contact your administrator.");
                return;
            case VerdictNames.REASON_DUO_PROTOCOL:
                refuse(context, "duo_protocol", reason,
                        "The two-factor result could not be verified. Please sign in again.");
                return;
            default:
                refuse(context, "duo_unavailable", reason,
                        "Duo is unavailable, so sign-in cannot be completed. Try again later.");
        }
    }

    private static String verdictParameter(StepUpContext context) {
        String value = context.uriInfo().getQueryParameters().getFirst("verdict");
        if (value == null && "POST".equals(context.httpRequest().getHttpMethod())) {
            MultivaluedMap<String, String> form = context.httpRequest().getDecodedFormParameters();
            value = form.getFirst("verdict");
        }
        return value;
    }

    /** The user-session notes of a pass (name, value), the methods ({@code NOTE_AMR}) aside. */
    static String[][] notes(Verdict verdict) {
        String time = String.valueOf(verdict.authTime > 0 ? verdict.authTime : now());
        return new String[][] {
            {Attributes.NOTE_RESULT, verdict.result},
            {Attributes.NOTE_TIME, time},
            {Attributes.NOTE_FACTOR, verdict.factor},
            {Attributes.NOTE_TXID, verdict.txid},
            {Attributes.NOTE_REASON, verdict.reason},
            {Attributes.NOTE_IDP, verdict.idp},
            {Attributes.NOTE_PROOF, verdict.proof},
        };
    }

    private static void pass(StepUpContext context, Verdict verdict, RealmSettings settings) {
        AuthenticationSessionModel authSession = context.authSession();
        if (settings.organizationId != null) { // the SSO session's next login keeps it
            authSession.setUserSessionNote(Attributes.NOTE_ORGANIZATION, settings.organizationId);
        }
        // User-session notes on the authentication session: Keycloak copies them into the
        // user session (new or existing) when it attaches this login to it.
        for (String[] note : notes(verdict)) {
            if (note[1] == null || note[1].isEmpty()) {
                continue;
            }
            authSession.setUserSessionNote(note[0], note[1]);
        }
        // Always written, empty too, so a pass without a second factor never keeps the
        // methods of an earlier one in this session.
        authSession.setUserSessionNote(Attributes.NOTE_AMR, String.join(" ", verdict.amr));
        authSession.setAuthNote(Attributes.AUTH_DONE, "true");
        context.event()
                .detail("duo_result", verdict.result)
                .detail("duo_reason", verdict.reason)
                .detail("duo_factor", verdict.factor)
                .detail("duo_txid", verdict.txid)
                .detail("duo_idp", verdict.idp)
                .detail("duo_proof", verdict.proof)
                .detail("duo_step", context.providerId());
        context.success();
    }

    static void refuse(StepUpContext context, String error, String reason, String message) {
        EventBuilder event = context.event().clone()
                .event(EventType.CUSTOM_REQUIRED_ACTION_ERROR)
                .detail("custom_required_action", context.providerId())
                .detail("duo_reason", reason == null ? "" : reason);
        event.error(error);
        LoginFormsProvider form = context.form()
                .setError(message)
                .setAttribute("duoRetryUrl", retryUrl(context));
        String back = applicationUrl(context);
        if (back != null) {
            form.setAttribute("duoBackUrl", back);
        }
        Response page = form.setStatus(Response.Status.FORBIDDEN).createForm(REFUSED_TEMPLATE);
        context.refuse(error, page);
    }

    /**
     * Keycloak's own "restart this login" for the browser tab: the login starts again from
     * the first step, so a refusal is never a dead end.
     */
    private static String retryUrl(StepUpContext context) {
        AuthenticationSessionModel authSession = context.authSession();
        ClientModel client = authSession.getClient();
        UriBuilder restart = UriBuilder.fromUri(issuer(context)).path("login-actions").path("restart");
        if (client != null) {
            restart.queryParam("client_id", client.getClientId());
        }
        return restart.queryParam("tab_id", authSession.getTabId()).build().toString();
    }

    /** The application's home (its base URL, else its root URL), or null when it has none. */
    private static String applicationUrl(StepUpContext context) {
        ClientModel client = context.authSession().getClient();
        if (client == null) {
            return null;
        }
        String base = client.getBaseUrl();
        String target = base == null || base.isEmpty() ? client.getRootUrl() : base;
        if (target == null || target.isEmpty()) {
            return null;
        }
        // Keycloak's own placeholders and relative paths, resolved with public API only
        // (keycloak-services' ResolveRelative is not SPI): a path is under the client's root
        // URL, else under Keycloak's own address.
        String auth = trimSlash(context.uriInfo().getBaseUri().toString());
        String resolved = expand(target, auth);
        if (resolved.startsWith("/")) {
            String root = client.getRootUrl();
            resolved = trimSlash(root == null || root.isEmpty() ? auth : expand(root, auth)) + resolved;
        }
        return resolved;
    }

    private static String expand(String url, String auth) {
        return url.replace("${authBaseUrl}", auth).replace("${authAdminUrl}", auth);
    }

    private static String trimSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    /** The realm's issuer, {@code <base>/realms/<name>}, as Keycloak writes it in tokens. */
    private static String issuer(StepUpContext context) {
        return UriBuilder.fromUri(context.uriInfo().getBaseUri())
                .path("realms")
                .path("{realm}")
                .build(context.realm().getName())
                .toString();
    }

    /**
     * The group's path from its parent chain: {@code /parent/child}, with a {@code /} inside
     * a name written {@code ~/} (Keycloak's own escape), whatever the server's escaping option,
     * so a group named {@code a/b} never reads as subgroup {@code b} of {@code a}.
     */
    static String groupPath(GroupModel group) {
        StringBuilder path = new StringBuilder();
        for (GroupModel g = group; g != null; g = g.getParent()) {
            path.insert(0, g.getName().replace("/", "~/")).insert(0, '/');
        }
        return path.toString();
    }

    /** Seconds since the epoch, with Keycloak's time offset (an API in every 26.x). */
    static long now() {
        return Time.currentTimeMillis() / 1000L;
    }

    private static String random() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
