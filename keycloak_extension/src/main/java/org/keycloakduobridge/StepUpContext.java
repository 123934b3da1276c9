package org.keycloakduobridge;

import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.net.URI;
import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.authentication.AuthenticationFlowError;
import org.keycloak.authentication.RequiredActionContext;
import org.keycloak.events.EventBuilder;
import org.keycloak.forms.login.LoginFormsProvider;
import org.keycloak.http.HttpRequest;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.sessions.AuthenticationSessionModel;

/**
 * One step-up as {@link StepUp} sees it, whether Keycloak runs it as the required action or
 * as the authenticator in a browser flow: the two contexts differ only in how a login goes on.
 */
interface StepUpContext {

    KeycloakSession session();

    RealmModel realm();

    UserModel user();

    AuthenticationSessionModel authSession();

    UriInfo uriInfo();

    HttpRequest httpRequest();

    EventBuilder event();

    LoginFormsProvider form();

    /** Where the bridge sends the browser back: this step's action URL, with a fresh code. */
    URI returnUrl();

    /** Leave Keycloak with {@code response} (the redirect to the bridge). */
    void challenge(Response response);

    /** This step passed. */
    void success();

    /** This step is refused, with {@code page} shown; {@code error} is the event's error. */
    void refuse(String error, Response page);

    /** Which of the two ran, for the event: the required action's or the authenticator's id. */
    String providerId();

    static StepUpContext of(RequiredActionContext context) {
        return new StepUpContext() {
            @Override public KeycloakSession session() { return context.getSession(); }
            @Override public RealmModel realm() { return context.getRealm(); }
            @Override public UserModel user() { return context.getUser(); }
            @Override public AuthenticationSessionModel authSession() {
                return context.getAuthenticationSession();
            }
            @Override public UriInfo uriInfo() { return context.getUriInfo(); }
            @Override public HttpRequest httpRequest() { return context.getHttpRequest(); }
            @Override public EventBuilder event() { return context.getEvent(); }
            @Override public LoginFormsProvider form() { return context.form(); }
            @Override public URI returnUrl() { return context.getActionUrl(context.generateCode()); }
            @Override public void challenge(Response response) { context.challenge(response); }
            @Override public void success() { context.success(); }
            @Override public void refuse(String error, Response page) { context.challenge(page); }
            @Override public String providerId() { return DuoStepUpRequiredActionFactory.PROVIDER_ID; }
        };
    }

    static StepUpContext of(AuthenticationFlowContext context) {
        return new StepUpContext() {
            @Override public KeycloakSession session() { return context.getSession(); }
            @Override public RealmModel realm() { return context.getRealm(); }
            @Override public UserModel user() { return context.getUser(); }
            @Override public AuthenticationSessionModel authSession() {
                return context.getAuthenticationSession();
            }
            @Override public UriInfo uriInfo() { return context.getUriInfo(); }
            @Override public HttpRequest httpRequest() { return context.getHttpRequest(); }
            @Override public EventBuilder event() { return context.getEvent(); }
            @Override public LoginFormsProvider form() { return context.form(); }
            @Override public URI returnUrl() {
                return context.getActionUrl(context.generateAccessCode());
            }
            @Override public void challenge(Response response) { context.challenge(response); }
            @Override public void success() { context.success(); }
            @Override public void refuse(String error, Response page) {
                context.failureChallenge(AuthenticationFlowError.ACCESS_DENIED, page);
            }
            @Override public String providerId() { return DuoStepUpAuthenticatorFactory.PROVIDER_ID; }
        };
    }
}
