package dev.cordon.channel.email;

import dev.cordon.core.channel.DeliveryResult;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import java.time.Duration;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;

/** What an SMTP failure means for a delivery: 4xx and no answer at all are for later, 5xx is final. */
final class SmtpFailure {
    private SmtpFailure() {}

    static DeliveryResult classify(MessagingException failure, Duration retry) {
        Throwable e = failure;
        while (e != null) {
            int code = switch (e) {
                case SMTPAddressFailedException a -> a.getReturnCode();
                case SMTPSendFailedException s -> s.getReturnCode();
                default -> 0;
            };
            if (code >= 500) {
                return new DeliveryResult.Failed(
                        "the mail server refused the reply: " + e.getMessage().strip());
            }
            if (code >= 400) {
                return new DeliveryResult.RetryLater(
                        retry,
                        "the mail server deferred the reply: " + e.getMessage().strip());
            }
            e = e instanceof MessagingException m && m.getNextException() != null ? m.getNextException() : e.getCause();
        }
        if (failure instanceof SendFailedException) {
            return new DeliveryResult.Failed("the mail server refused the reply: " + failure.getMessage());
        }
        return new DeliveryResult.RetryLater(retry, "could not reach the mail server: " + failure);
    }
}
