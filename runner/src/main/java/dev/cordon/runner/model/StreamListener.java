package dev.cordon.runner.model;

/** Receives a model stream as it happens. Called on the thread that called the client. */
public interface StreamListener {
    /** A piece of assistant text. */
    void onText(String delta);

    /** The stream broke and the call is being retried: text passed to {@link #onText} so far is void. */
    void onReset(String reason);

    StreamListener NONE = new StreamListener() {
        @Override
        public void onText(String delta) {}

        @Override
        public void onReset(String reason) {}
    };
}
