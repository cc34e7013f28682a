/** Entry of the example's bundle: reads the server's URL from the page and renders the app. */
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createApp } from "./app";

const apiUrl = document.querySelector<HTMLMetaElement>('meta[name="sockstate-api"]')!.content;
const App = createApp(apiUrl);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
