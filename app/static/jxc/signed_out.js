// The sign-in page: nobody is signed in here, so the phone pages' service worker drops the copies it kept of
// whoever was (docs/phone.md): after a logout nobody reads them offline or on a slow connection.
(function () {
  'use strict';
  if (!('serviceWorker' in navigator)) { return; }
  navigator.serviceWorker.getRegistration('/phone/').then(function (registration) {
    if (registration && registration.active) { registration.active.postMessage({ type: 'user', user: '' }); }
  }).catch(function () { /* no worker, nothing kept */ });
}());
