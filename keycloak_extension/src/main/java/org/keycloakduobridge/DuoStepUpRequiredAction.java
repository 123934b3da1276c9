package org.keycloakduobridge;

import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriBuilder;
import java.net.URI;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.stream.Collectors;
import org.keycloak.authentication.InitiatedActionSupport;
import org.keycloak.authentication.RequiredActionContext;
import org.keycloak.authentication.RequiredActionProvider;
import org.keycloak.common.VerificationException;
import org.keycloak.common.util.Time;
import org.keycloak.events.EventBuilder;
import org.keycloak.events.EventType;
import org.keycloak.forms.login.LoginFormsProvider;
import org.keycloak.models.ClientModel;
import org.keycloak.models.GroupModel;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.sessions.AuthenticationSessionModel;

/**
 * The {@code duo-step-up} required action: hands the browser to the bridge with a request
 * token signed by the realm, and accepts only a verdict signed by the bridge.
 *
 * <p>It holds no policy of its own: it reads the settings the Python side resolved for the
 * realm ({@link RealmSettings}, verbatim): whether Duo is on, the applications it is off for,
 * the remember window, and the fail mode (the only condition under which a {@code bypass}
 * verdict passes). When that record does not match the realm's attributes it fails closed.
 */
public final class DuoStepUpRequiredAction implements RequiredActionProvider {

    static final String AUDIENCE = "kdb-bridge";
    private static final int REQUEST_LIFETIME_SECONDS = 300;
    /** The refusal page: the reason, "Try again" and, when known, "Back to the application". */
    static final String REFUSED_TEMPLATE = "duo-refused.ftl";
    private static final SecureRandom RANDOM = new SecureRandom();

    @Override
    public InitiatedActionSupport initiatedActionSupport() {
        return InitiatedActionSupport.SUPPORTED;
    }

    @Override
    public void evaluateTriggers(RequiredActionContext context) {
        AuthenticationSessionModel authSession = context.getAuthenticationSession();
        if ("true".equals(authSession.getAuthNote(Attributes.AUTH_DONE))) {
            return; // loop guard: after success Keycloak re-evaluates triggers
        }
        RealmSettings settings = RealmSettings.of(context.getSession(), context.getRealm());
        ClientModel client = authSession.getClient();
        if (!settings.triggers(client == null ? null : client.getClientId())) {
            return;
        }
        if (hasFreshPass(context, settings)) {
            return;
        }
        authSession.addRequiredAction(DuoStepUpRequiredActionFactory.PROVIDER_ID);
    }

    private static boolean hasFreshPass(RequiredActionContext context, RealmSettings settings) {
        if (!RealmSettings.REMEMBER_SESSION.equals(settings.remember)
                && !RealmSettings.REMEMBER_WINDOW.equals(settings.remember)) {
            return false;
        }
        AuthenticationSessionModel authSession = context.getAuthenticationSession();
        // The SSO session this login continues, as Keycloak's public context holds it (set
        // when the identity cookie was verified); a fresh login has none.
        UserSessionModel userSession = context.getSession().getContext().getUserSession();
        UserModel user = context.getUser();
        if (userSession == null || user == null || userSession.getUser() == null
                || !context.getRealm().getId().equals(userSession.getRealm().getId())
                || !user.getId().equals(userSession.getUser().getId())) {
            return false;
        }
        if (!VerdictNames.RESULT_ALLOW.equals(userSession.getNote(Attributes.NOTE_RESULT))) {
            return false;
        }
        if (RealmSettings.REMEMBER_SESSION.equals(settings.remember)) {
            return true;
        }
        try {
            long passed = Long.parseLong(userSession.getNote(Attributes.NOTE_TIME));
            return now() - passed <= settings.rememberSeconds;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    @Override
    public void requiredActionChallenge(RequiredActionContext context) {
        RealmModel realm = context.getRealm();
        RealmSettings settings = RealmSettings.of(context.getSession(), realm);
        if (settings.bridgeUrl == null || settings.bridgeJwks == null) {
            refuse(context, "duo_not_configured", "the realm has no bridge URL or bridge keys",
                    "Two-factor authentication is not configured for this realm. "
                            + "Contact your administrator.");
            return;
        }
        AuthenticationSessionModel authSession = context.getAuthenticationSession();
        UserModel user = context.getUser();
        String nonce = random();
        authSession.setAuthNote(Attributes.AUTH_NONCE, nonce);
        URI returnUrl = context.getActionUrl(context.generateCode());

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
        token.setOtherClaims("activated", "true".equals(user.getFirstAttribute(Attributes.USER_ACTIVATED)));
        // For a realm that names users to Duo by email: the bridge takes only a verified one.
        token.setOtherClaims("email", user.getEmail());
        token.setOtherClaims("email_verified", user.isEmailVerified());
        List<String> groups = user.getGroupsStream()
                .filter(group -> group.getType() == GroupModel.Type.REALM)
                .map(DuoStepUpRequiredAction::groupPath)
                .collect(Collectors.toList());
        token.setOtherClaims("groups", groups);
        String signed = context.getSession().tokens().encode(token);

        URI target = UriBuilder.fromUri(settings.bridgeUrl.replaceAll("/+$", ""))
                .path("step-up")
                .queryParam("request", signed)
                .build();
        context.challenge(Response.status(Response.Status.FOUND).location(target).build());
    }

    @Override
    public void processAction(RequiredActionContext context) {
        AuthenticationSessionModel authSession = context.getAuthenticationSession();
        RealmSettings settings = RealmSettings.of(context.getSession(), context.getRealm());
        String nonce = authSession.getAuthNote(Attributes.AUTH_NONCE);
        authSession.removeAuthNote(Attributes.AUTH_NONCE); // single use: a replay finds no nonce
        Verdict verdict;
        try {
            verdict = Verdict.verify(verdictParameter(context), settings.bridgeJwks, issuer(context),
                    context.getUser().getId(), nonce, now());
        } catch (VerificationException e) {
            refuse(context, "duo_invalid_verdict", e.getMessage(),
                    "The two-factor result could not be verified. Please sign in again.");
            return;
        }
        switch (verdict.result) {
            case VerdictNames.RESULT_ALLOW:
            case VerdictNames.RESULT_SKIP:
                pass(context, verdict);
                return;
            case VerdictNames.RESULT_BYPASS:
                if (settings.failOpen) {
                    pass(context, verdict);
                } else {
                    refuse(context, "duo_bypass_refused", verdict.reason,
                            "Duo is unavailable, so sign-in cannot be completed. Try again later.");
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
    private static void refuseError(RequiredActionContext context, String reason) {
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

    private static String verdictParameter(RequiredActionContext context) {
        String value = context.getUriInfo().getQueryParameters().getFirst("verdict");
        if (value == null && "POST".equals(context.getHttpRequest().getHttpMethod())) {
            MultivaluedMap<String, String> form = context.getHttpRequest().getDecodedFormParameters();
            value = form.getFirst("verdict");
        }
        return value;
    }

    private static void pass(RequiredActionContext context, Verdict verdict) {
        AuthenticationSessionModel authSession = context.getAuthenticationSession();
        String time = String.valueOf(verdict.authTime > 0 ? verdict.authTime : now());
        String[][] notes = {
            {Attributes.NOTE_RESULT, verdict.result},
            {Attributes.NOTE_TIME, time},
            {Attributes.NOTE_FACTOR, verdict.factor},
            {Attributes.NOTE_TXID, verdict.txid},
            {Attributes.NOTE_REASON, verdict.reason},
        };
        // User-session notes on the authentication session: Keycloak copies them into the
        // user session (new or existing) when it attaches this login to it.
        for (String[] note : notes) {
            if (note[1] == null || note[1].isEmpty()) {
                continue;
            }
            authSession.setUserSessionNote(note[0], note[1]);
        }
        authSession.setAuthNote(Attributes.AUTH_DONE, "true");
        context.getEvent()
                .detail("duo_result", verdict.result)
                .detail("duo_reason", verdict.reason)
                .detail("duo_factor", verdict.factor)
                .detail("duo_txid", verdict.txid);
        context.success();
    }

    private static void refuse(RequiredActionContext context, String error, String reason,
            String message) {
        EventBuilder event = context.getEvent().clone()
                .event(EventType.CUSTOM_REQUIRED_ACTION_ERROR)
                .detail("custom_required_action", DuoStepUpRequiredActionFactory.PROVIDER_ID)
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
        context.challenge(page);
    }

    /**
     * Keycloak's own "restart this login" for the browser tab: the login starts again from
     * the first step, so a refusal is never a dead end.
     */
    private static String retryUrl(RequiredActionContext context) {
        AuthenticationSessionModel authSession = context.getAuthenticationSession();
        ClientModel client = authSession.getClient();
        UriBuilder restart = UriBuilder.fromUri(issuer(context)).path("login-actions").path("restart");
        if (client != null) {
            restart.queryParam("client_id", client.getClientId());
        }
        return restart.queryParam("tab_id", authSession.getTabId()).build().toString();
    }

    /** The application's home (its base URL, else its root URL), or null when it has none. */
    private static String applicationUrl(RequiredActionContext context) {
        ClientModel client = context.getAuthenticationSession().getClient();
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
        String auth = trimSlash(context.getUriInfo().getBaseUri().toString());
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
    private static String issuer(RequiredActionContext context) {
        return UriBuilder.fromUri(context.getUriInfo().getBaseUri())
                .path("realms")
                .path("{realm}")
                .build(context.getRealm().getName())
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
    private static long now() {
        return Time.currentTimeMillis() / 1000L;
    }

    private static String random() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    @Override
    public void close() {
        // Stateless.
    }
}
