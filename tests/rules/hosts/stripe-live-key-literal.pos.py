import stripe

stripe.api_key = "sk_live_ka8FRCztUjAwyuh1vauWv1zh87mTa5Vs"
