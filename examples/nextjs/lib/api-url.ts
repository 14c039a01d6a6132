/** Where the API is: NEXT_PUBLIC_API_URL (read at build time, the same on the server and in the browser). */
export const API_URL = process.env.NEXT_PUBLIC_API_URL ?? 'http://localhost:4000/graphql';
export const WS_URL = API_URL.replace(/^http/, 'ws');
