<#-- The duo-step-up refusal: the reason, then the ways back. The reason sits where Keycloak's
     own error page puts it (#kc-error-message .instruction), so tools that read that page
     read this one alike. -->
<#import "template.ftl" as layout>
<@layout.registrationLayout displayMessage=false; section>
    <#if section = "header">
        Sign-in not completed
    <#elseif section = "form">
        <div id="kc-error-message">
            <p class="instruction">${(message.summary)!""}</p>
            <p>You can start the sign-in again, or go back to the application.</p>
            <p><a id="duoTryAgain" class="${properties.kcButtonClass!} ${properties.kcButtonPrimaryClass!}" href="${duoRetryUrl}">Try again</a></p>
            <#if duoBackUrl??>
            <p><a id="backToApplication" href="${duoBackUrl}">Back to the application</a></p>
            </#if>
        </div>
    </#if>
</@layout.registrationLayout>
