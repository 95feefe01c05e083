/** The webhook secret `npm start` uses when WEBHOOK_SECRET is not set; the sign and demo scripts sign with it. */
export const DEV_WEBHOOK_SECRET = `whsec_${Buffer.from('backorder-watch-local-dev-secret').toString('base64')}`;
