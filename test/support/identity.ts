/** The bot identity the fake channel registers and the service under test runs as. */
export const BOT_APP_ID = '6b8c2d6e-1f3a-4c5d-8e9f-0a1b2c3d4e5f';
export const BOT_PASSWORD = 'fake-bot-secret-do-not-log';
