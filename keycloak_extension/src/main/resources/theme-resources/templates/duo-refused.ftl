<#-- The duo-step-up refusal: the reason (as the error message), then the ways back. -->
<#import "template.ftl" as layout>
<@layout.registrationLayout displayMessage=true; section>
    <#if section = "header">
        Sign-in not completed
    <#elseif section = "form">
        <div id="kdb-duo-refused">
            <p class="instruction">You can start the sign-in again, or go back to the application.</p>
            <p><a id="duoTryAgain" class="${properties.kcButtonClass!} ${properties.kcButtonPrimaryClass!}" href="${duoRetryUrl}">Try again</a></p>
            <#if duoBackUrl??>
            <p><a id="backToApplication" href="${duoBackUrl}">Back to the application</a></p>
            </#if>
        </div>
    </#if>
</@layout.registrationLayout>
